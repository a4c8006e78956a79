package asynciter

// deque is a FIFO of values that reuses its storage.
type deque[T any] struct {
	buf  []T
	head int
}

func (d *deque[T]) len() int { return len(d.buf) - d.head }

func (d *deque[T]) push(v T) {
	if len(d.buf) == cap(d.buf) && d.head > 0 && d.head >= len(d.buf)/2 {
		n := copy(d.buf, d.buf[d.head:])
		clear(d.buf[n:])
		d.buf = d.buf[:n]
		d.head = 0
	}
	d.buf = append(d.buf, v)
}

func (d *deque[T]) pop() T {
	v := d.buf[d.head]
	var zero T
	d.buf[d.head] = zero
	d.head++
	if d.head == len(d.buf) {
		d.buf = d.buf[:0]
		d.head = 0
	}
	return v
}

func (d *deque[T]) clear() {
	clear(d.buf)
	d.buf = d.buf[:0]
	d.head = 0
}

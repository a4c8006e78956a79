package asynciter

// deque is a FIFO of values in a ring that grows as values are pushed and
// shrinks as they are popped, so that a buffer drained after a peak gives
// its memory back: the ring halves whenever it is at most a quarter full,
// down to minRing slots. Growing and shrinking each copy the values, at a
// cost that averages out to a constant per value.
type deque[T any] struct {
	ring []T // len is a power of two, or 0
	head int // index of the first value
	n    int // values in the ring
}

// minRing is the smallest ring a deque keeps once it has grown.
const minRing = 16

func (d *deque[T]) len() int { return d.n }

func (d *deque[T]) push(v T) {
	if d.n == len(d.ring) {
		d.resize(max(2*len(d.ring), minRing))
	}
	d.ring[(d.head+d.n)&(len(d.ring)-1)] = v
	d.n++
}

func (d *deque[T]) pop() T {
	v := d.ring[d.head]
	var zero T
	d.ring[d.head] = zero
	d.head = (d.head + 1) & (len(d.ring) - 1)
	d.n--
	if len(d.ring) > minRing && d.n <= len(d.ring)/4 {
		d.resize(len(d.ring) / 2)
	}
	return v
}

// resize moves the values into a new ring of size slots.
func (d *deque[T]) resize(size int) {
	ring := make([]T, size)
	if d.n > 0 {
		k := copy(ring, d.ring[d.head:min(d.head+d.n, len(d.ring))])
		copy(ring[k:], d.ring[:d.n-k])
	}
	d.ring, d.head = ring, 0
}

// clear drops every value and the ring with them.
func (d *deque[T]) clear() { *d = deque[T]{} }

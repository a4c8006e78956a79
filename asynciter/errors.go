package asynciter

import "errors"

var (
	// ErrWouldBlock is returned by TrySend, TryRecv, TryPut and TryGet when
	// the operation would have to wait.
	ErrWouldBlock = errors.New("asynciter: operation would block")

	// ErrEndOfChannel is returned by Recv and TryRecv once every sender of
	// the channel has been closed and the buffer is empty. It is how a
	// channel ends cleanly; Receiver.All ends without yielding it.
	ErrEndOfChannel = errors.New("asynciter: end of channel")

	// ErrClosed is returned by the methods of a channel handle (a Sender or
	// Receiver) that was itself closed, including to calls that were waiting
	// on that handle when it was closed.
	ErrClosed = errors.New("asynciter: channel handle is closed")

	// ErrBroken is returned by Send and TrySend once every receiver of the
	// channel has been closed: nobody will ever read what is sent.
	ErrBroken = errors.New("asynciter: every receiver of the channel is closed")

	// ErrQueueShutDown is returned by Put and TryPut after Queue.Shutdown, and
	// by Get and TryGet once a shut-down queue is empty.
	ErrQueueShutDown = errors.New("asynciter: queue is shut down")

	// ErrTaskDoneTooOften is returned by Queue.TaskDone when it is called more
	// times than items were put in the queue.
	ErrTaskDoneTooOften = errors.New("asynciter: TaskDone called more times than items were put")

	// errStopped is the cause with which a sequence cancels its goroutines
	// when the loop over it stops early. It never reaches the caller.
	errStopped = errors.New("asynciter: the loop stopped early")
)

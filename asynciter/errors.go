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

	// ErrStopped is the cause (context.Cause) of the ctx of a producer, a
	// function given to Map, or any goroutine behind a loop, once the
	// sequence no longer needs it: the loop has stopped early (break,
	// return, a panic in its body), or an error ends the sequence. No
	// sequence yields it.
	ErrStopped = errors.New("asynciter: the loop stopped early")
)

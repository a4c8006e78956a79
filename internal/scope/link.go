package scope

import "context"

// An Owner is a scope or a nursery, seen by the scopes and nurseries nested
// in its context: it runs their Links in the call that cancels its context,
// so that its cancellation reaches them before that call returns, as the
// standard library's reaches the contexts it derives.
type Owner interface {
	// Link adds l, to run once when the owner's context is cancelled. It
	// reports whether it added l (not if the context is already cancelled:
	// the caller sees that in its Err), and whether the owner runs its
	// links on every cancellation of its context (complete). A nursery
	// whose context a standard context of the user's can cancel does not:
	// the caller then watches the context through the standard library as
	// well.
	Link(l *Link) (added, complete bool)
	// Unlink removes l, and reports whether it did before l ran.
	Unlink(l *Link) bool
	// Done is the Done of the owner's context: a context whose Done is
	// another channel has a layer of its own between, which the owner's
	// links would skip.
	Done() <-chan struct{}
}

// ownerKey is the key under which a scope's or nursery's context answers
// Value with its Owner.
type ownerKey struct{}

// OwnerOf returns the Owner whose context ctx is, seen through any number
// of WithValue layers and no layer that can be cancelled on its own; nil if
// there is none. It calls ctx's methods: never call it holding a lock that
// a Link's function takes.
func OwnerOf(ctx context.Context) Owner { return ownerOf(ctx) }

// A Link is a function that an Owner runs when its context is cancelled.
type Link struct {
	f func()
}

// NewLink returns a Link that runs f.
func NewLink(f func()) *Link { return &Link{f: f} }

// Links is the set of an Owner's Links, guarded by the owner's lock. The
// zero value is empty.
type Links struct {
	m     map[*Link]struct{}
	taken bool // the owner's context is cancelled: no more links
}

// Add adds l; it reports false if the links were already taken.
func (ls *Links) Add(l *Link) bool { return ls.addLocked(l) }

// Remove removes l, and reports whether it was there.
func (ls *Links) Remove(l *Link) bool { return ls.removeLocked(l) }

// Take returns the functions to run, once, for the cancellation; later
// Adds fail.
func (ls *Links) Take() []func() {
	hooks := ls.takeLocked()
	fs := make([]func(), len(hooks))
	for i, h := range hooks {
		fs[i] = h.f
	}
	return fs
}

func (ls *Links) addLocked(l *Link) bool {
	if ls.taken {
		return false
	}
	if ls.m == nil {
		ls.m = make(map[*Link]struct{})
	}
	ls.m[l] = struct{}{}
	return true
}

func (ls *Links) removeLocked(l *Link) bool {
	if _, ok := ls.m[l]; !ok {
		return false
	}
	delete(ls.m, l)
	return true
}

func (ls *Links) takeLocked() []*hook {
	ls.taken = true
	if len(ls.m) == 0 {
		ls.m = nil
		return nil
	}
	hooks := make([]*hook, 0, len(ls.m))
	for l := range ls.m {
		hooks = append(hooks, l)
	}
	ls.m = nil
	return hooks
}

// IsOwnerKey reports whether key is the key under which an owner's context
// answers Value with its Owner.
func IsOwnerKey(key any) bool {
	_, ok := key.(ownerKey)
	return ok
}

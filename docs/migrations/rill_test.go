package migrations_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/destel/rill"

	"github.com/structured-go/structured/asynciter"
)

// A User of an account service.
type User struct {
	ID     int
	Name   string
	Active bool
}

// accounts is the account service of the example: it looks users up, and
// records whom it notified.
type accounts struct {
	mu       sync.Mutex
	notified []string
}

func (a *accounts) getUser(ctx context.Context, id int) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, err
	}
	return User{ID: id, Name: fmt.Sprintf("user%d", id), Active: id%2 == 1}, nil
}

func (a *accounts) notify(ctx context.Context, u User) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notified = append(a.notified, u.Name)
	return u.Name, nil
}

// notifyActiveRill notifies the active users with rill.
func notifyActiveRill(ctx context.Context, a *accounts, ids []int) error {
	users := rill.Map(rill.FromSlice(ids, nil), 3, func(id int) (User, error) {
		return a.getUser(ctx, id)
	})
	active := rill.Filter(users, 3, func(u User) (bool, error) {
		return u.Active, nil
	})
	return rill.ForEach(active, 2, func(u User) error {
		_, err := a.notify(ctx, u)
		return err
	})
}

// notifyActive notifies them with asynciter.
func notifyActive(ctx context.Context, a *accounts, ids []int) error {
	users := asynciter.Map(ctx, slices.Values(ids), a.getUser, asynciter.WithLimit(3), asynciter.WithUnordered())
	active := asynciter.Filter(users, func(u User) bool {
		return u.Active
	})
	for _, err := range asynciter.MapStream(ctx, active, a.notify, asynciter.WithLimit(2), asynciter.WithUnordered()) {
		if err != nil {
			return err
		}
	}
	return nil
}

// The pipeline before and after: the same users notified, each once.
func Example_rillPipeline() {
	ids := []int{1, 2, 3, 4, 5, 6, 7}
	for _, port := range []struct {
		name string
		run  func(context.Context, *accounts, []int) error
	}{{"rill     ", notifyActiveRill}, {"asynciter", notifyActive}} {
		a := &accounts{}
		err := port.run(context.Background(), a, ids)
		slices.Sort(a.notified)
		fmt.Println(port.name, a.notified, err)
	}
	// Output:
	// rill      [user1 user3 user5 user7] <nil>
	// asynciter [user1 user3 user5 user7] <nil>
}

// rill carries errors as items (Try); asynciter.Settled does, where a
// stream must go on past a failure.
func Example_rillTry() {
	ctx := context.Background()
	parse := func(s string) (int, error) {
		var n int
		_, err := fmt.Sscan(s, &n)
		return n, err
	}
	in := []string{"1", "x", "3"}

	for r := range rill.OrderedMap(rill.FromSlice(in, nil), 2, parse) {
		fmt.Println("rill:", r.Value, r.Error)
	}
	parseCtx := func(ctx context.Context, s string) (int, error) { return parse(s) }
	for r, err := range asynciter.Map(ctx, slices.Values(in), asynciter.Settled(parseCtx), asynciter.WithLimit(2)) {
		if err != nil {
			return
		}
		fmt.Println("asynciter:", r.Value, r.Err)
	}
	// Output:
	// rill: 1 <nil>
	// rill: 0 expected integer
	// rill: 3 <nil>
	// asynciter: 1 <nil>
	// asynciter: 0 expected integer
	// asynciter: 3 <nil>
}

// rill's FlatMap reads n streams at once; so does FlatMapConcurrent.
func Example_rillFlatMap() {
	ctx := context.Background()
	dirs := []string{"a", "b"}
	list := func(dir string) []string { return []string{dir + "/1", dir + "/2"} }

	var files []string
	for r := range rill.FlatMap(rill.FromSlice(dirs, nil), 2, func(dir string) <-chan rill.Try[string] {
		return rill.FromSlice(list(dir), nil)
	}) {
		files = append(files, r.Value)
	}
	slices.Sort(files)
	fmt.Println("rill:     ", files)

	files = files[:0]
	for f, err := range asynciter.FlatMapConcurrent(ctx, asynciter.FromSeq(slices.Values(dirs)), func(ctx context.Context, dir string) iter.Seq2[string, error] {
		return asynciter.FromSeq(slices.Values(list(dir)))
	}, asynciter.WithLimit(2)) {
		if err != nil {
			return
		}
		files = append(files, f)
	}
	slices.Sort(files)
	fmt.Println("asynciter:", files)
	// Output:
	// rill:      [a/1 a/2 b/1 b/2]
	// asynciter: [a/1 a/2 b/1 b/2]
}

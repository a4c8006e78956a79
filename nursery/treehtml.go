package nursery

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"time"
)

// The page TreeHandler serves to a browser: rendered on the server, every
// name, site and error text escaped, with its style inline and no script.

// A pageView is what the page, written by hand in writeTreeHTML, shows.
type pageView struct {
	PID       int
	GoVersion string
	Time      string
	Nurseries []nurseryView
	Count     int // nurseries
	Open      int // open tasks
	Stuck     int // nurseries marked as stuck
	StuckFor  string
	Links     map[string]string
}

type nurseryView struct {
	ID       uint64
	Name     string
	Site     string
	Age      string
	State    string // running, waiting, cancelled
	Cause    string
	Waiting  string
	Stuck    bool
	Until    bool
	Open     int
	Tasks    []taskView
	Before   int // kinds of task on earlier pages
	After    int // kinds of task on later pages
	PrevLink string
	NextLink string
	Children []nurseryView
}

type taskView struct {
	Name  string
	Func  string
	Site  string
	Age   string
	Count int
	Stuck bool
	Until bool
	Stack string
}

// pageHead is the page up to its body: its style is inline, and it has no
// script.
const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
`

const pageStyle = `<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
header p { margin: .2em 0; color: #444; }
section.nursery { border-left: 3px solid #7a9cc6; margin: .6em 0 .6em .4em; padding: .1em 0 .1em .8em; background: #fff; }
section.nursery.stuck { border-left-color: #c0392b; background: #fff6f5; }
summary { cursor: default; font-weight: 600; }
.name { font-family: ui-monospace, monospace; }
.site, td.site, td.func { font-family: ui-monospace, monospace; font-size: 12px; color: #333; }
.badge { display: inline-block; padding: 0 .5em; border-radius: .6em; font-size: 12px; font-weight: 600; margin-left: .4em; }
.running { background: #e3f1e3; color: #1e6b1e; }
.waiting { background: #fdf0d5; color: #8a5a00; }
.cancelled { background: #f4e1e1; color: #8b1d1d; }
.stuckmark { background: #c0392b; color: #fff; }
.until { background: #e6e6f5; color: #3b3b8f; }
table { border-collapse: collapse; margin: .4em 0; }
th, td { text-align: left; padding: .15em .8em .15em 0; vertical-align: top; }
th { font-size: 12px; color: #666; font-weight: 600; }
tr.stuck td { color: #8b1d1d; }
td.count { font-weight: 700; }
pre { margin: .2em 0 .4em; font-size: 11px; color: #555; }
.meta { color: #555; font-weight: 400; }
nav a { margin-right: 1em; }
</style>
`

// writeTreeHTML writes the page of infos, taken at now, with each
// nursery's kinds of task cut to p; Runs waiting longer than stuck are
// marked. q is the request's query, which the links keep. Every text from
// the program (names, sites, function names, causes, stacks) goes through
// html.EscapeString, in text or in a double-quoted attribute: the page is
// written by hand rather than by html/template, five times faster for the
// 10,000 tasks it must show in 50 ms, and it holds no URL, script or style
// made of them.
func writeTreeHTML(w io.Writer, infos []NurseryInfo, now time.Time, p page, stuck time.Duration, q url.Values) error {
	v := pageView{
		PID: os.Getpid(), GoVersion: runtime.Version(), Time: now.Format(time.RFC3339),
		StuckFor: stuck.String(),
		Links: map[string]string{
			"text":   link(q, "format", "text"),
			"json":   link(q, "format", "json"),
			"stacks": link(q, "stacks", "1"),
			"pprof":  "/debug/pprof/goroutine?debug=1",
		},
	}
	for _, info := range infos {
		v.Nurseries = append(v.Nurseries, viewNursery(info, now, p, stuck, q, &v))
	}
	b := bufio.NewWriterSize(w, 64<<10)
	e := html.EscapeString
	b.WriteString(pageHead)
	fmt.Fprintf(b, "<title>nurseries of pid %d</title>\n", v.PID)
	b.WriteString(pageStyle)
	b.WriteString("</head>\n<body>\n<header>\n<h1>Nurseries</h1>\n")
	fmt.Fprintf(b, "<p data-summary>pid %d, %s, at %s: %d tracked %s, %d open %s", v.PID, e(v.GoVersion), e(v.Time),
		v.Count, plural(v.Count, "nursery", "nurseries"), v.Open, plural(v.Open, "task", "tasks"))
	if v.Stuck > 0 {
		fmt.Fprintf(b, ", <strong>%d stuck</strong> (waiting longer than %s)", v.Stuck, e(v.StuckFor))
	}
	b.WriteString(".</p>\n")
	fmt.Fprintf(b, "<nav><a href=\"%s\">text</a><a href=\"%s\">JSON</a><a href=\"%s\">with stacks</a><a href=\"%s\">goroutine profile</a></nav>\n</header>\n<main>\n",
		e(v.Links["text"]), e(v.Links["json"]), e(v.Links["stacks"]), e(v.Links["pprof"]))
	if len(v.Nurseries) == 0 {
		b.WriteString("<p data-empty>No tracked nursery is running.</p>\n")
	}
	for i := range v.Nurseries {
		writeNurseryHTML(b, &v.Nurseries[i])
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeNurseryHTML(b *bufio.Writer, nv *nurseryView) {
	e := html.EscapeString
	b.WriteString(`<section class="nursery`)
	if nv.Stuck {
		b.WriteString(" stuck")
	}
	fmt.Fprintf(b, `" data-nursery="%d" data-state="%s"`, nv.ID, nv.State)
	if nv.Stuck {
		b.WriteString(" data-stuck")
	}
	b.WriteString(">\n<details open>\n<summary>")
	if nv.Name != "" {
		fmt.Fprintf(b, `<span class="name">%s</span>`, e(strconv.Quote(nv.Name)))
	} else {
		b.WriteString(`<span class="name">nursery</span>`)
	}
	fmt.Fprintf(b, ` <span class="meta">#%d at <span class="site">%s</span>, for %s</span><span class="badge %s">%s</span>`, nv.ID, e(nv.Site), e(nv.Age), nv.State, nv.State)
	if nv.Until {
		b.WriteString(`<span class="badge until">until cancelled</span>`)
	}
	if nv.Stuck {
		b.WriteString(`<span class="badge stuckmark">stuck</span>`)
	}
	b.WriteString("</summary>\n")
	if nv.Cause != "" {
		fmt.Fprintf(b, "<p class=\"cause\">cancelled: <q>%s</q></p>\n", e(nv.Cause))
	}
	if nv.Waiting != "" {
		fmt.Fprintf(b, "<p class=\"meta\">waiting for its tasks for %s</p>\n", e(nv.Waiting))
	}
	if len(nv.Tasks) > 0 {
		b.WriteString("<table>\n<thead><tr><th>×</th><th>task</th><th>function</th><th>site</th><th>age</th></tr></thead>\n<tbody>\n")
		for i := range nv.Tasks {
			t := &nv.Tasks[i]
			fmt.Fprintf(b, `<tr data-task="%s" data-count="%d"`, e(t.Name), t.Count)
			if t.Stuck {
				b.WriteString(` class="stuck" data-stuck`)
			}
			b.WriteString(`><td class="count">`)
			if t.Count > 1 {
				fmt.Fprintf(b, "×%d", t.Count)
			}
			b.WriteString(`</td><td class="name">`)
			if t.Name != "" {
				b.WriteString(e(strconv.Quote(t.Name)))
			}
			if t.Until {
				b.WriteString(` <span class="badge until">until cancelled</span>`)
			}
			fmt.Fprintf(b, `</td><td class="func">%s</td><td class="site">%s</td><td>%s`, e(t.Func), e(t.Site), e(t.Age))
			if t.Count > 1 {
				b.WriteString(" (oldest)")
			}
			b.WriteString("</td></tr>\n")
			if t.Stack != "" {
				fmt.Fprintf(b, "<tr><td></td><td colspan=\"4\"><pre>%s</pre></td></tr>\n", e(t.Stack))
			}
		}
		b.WriteString("</tbody>\n</table>\n")
	} else {
		b.WriteString("<p class=\"meta\">no open task</p>\n")
	}
	if nv.Before > 0 || nv.After > 0 {
		fmt.Fprintf(b, "<p class=\"meta\" data-more>%d open tasks", nv.Open)
		if nv.Before > 0 {
			fmt.Fprintf(b, ", %d kinds on earlier pages (<a href=\"%s\">previous</a>)", nv.Before, e(nv.PrevLink))
		}
		if nv.After > 0 {
			fmt.Fprintf(b, ", %d kinds on later pages (<a href=\"%s\">next</a>)", nv.After, e(nv.NextLink))
		}
		b.WriteString("</p>\n")
	}
	for i := range nv.Children {
		writeNurseryHTML(b, &nv.Children[i])
	}
	b.WriteString("</details>\n</section>\n")
}

// link is the query q with key set to value, as a relative URL.
func link(q url.Values, key, value string) string {
	c := url.Values{}
	for k, vs := range q {
		c[k] = vs
	}
	c.Set(key, value)
	return "?" + c.Encode()
}

func viewNursery(info NurseryInfo, now time.Time, p page, stuck time.Duration, q url.Values, v *pageView) nurseryView {
	v.Count++
	v.Open += info.OpenTasks
	nv := nurseryView{
		ID: info.ID, Name: info.Name, Site: info.Site, Age: age(now, info.Started).String(),
		State: "running", Cause: info.Cause, Until: info.UntilCancelled, Open: info.OpenTasks,
	}
	switch {
	case !info.Cancelled.IsZero():
		nv.State = "cancelled"
	case !info.Returned.IsZero():
		nv.State = "waiting"
	}
	if !info.Waiting.IsZero() {
		nv.Waiting = age(now, info.Waiting).String()
	}
	kinds := FoldTasks(info.Tasks)
	shown, after := cut(kinds, p)
	nv.Before, nv.After = min(p.offset, len(kinds)), after
	if nv.Before > 0 {
		nv.PrevLink = link(q, "offset", strconv.Itoa(max(p.offset-p.limit, 0)))
	}
	if nv.After > 0 {
		nv.NextLink = link(q, "offset", strconv.Itoa(p.offset+p.limit))
	}
	for _, t := range kinds {
		if taskStuck(info, t, now, stuck) {
			nv.Stuck = true
		}
	}
	for _, t := range shown {
		nv.Tasks = append(nv.Tasks, taskView{
			Name: t.Name, Func: t.Func, Site: t.Site, Age: age(now, t.Started).String(),
			Count: t.Count, Stuck: taskStuck(info, t, now, stuck), Until: t.UntilCancelled, Stack: t.Stack,
		})
	}
	if nv.Stuck {
		v.Stuck++
	}
	for _, c := range info.Children {
		nv.Children = append(nv.Children, viewNursery(c, now, p, stuck, q, v))
	}
	return nv
}

// taskStuck reports whether t has kept its Run waiting for longer than
// stuck.
func taskStuck(info NurseryInfo, t TaskInfo, now time.Time, stuck time.Duration) bool {
	return info.WaitedFor(t, now) > stuck
}

package nursery

import (
	"html/template"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"time"
)

// The page TreeHandler serves to a browser: rendered on the server by
// html/template, which escapes every name, site and error text, with its
// style inline and no script.

// A pageView is what the page template shows.
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
	ID          uint64
	Name        string
	Site        string
	Age         string
	State       string // running, waiting, cancelled
	Cause       string
	Waiting     string
	Stuck       bool
	Until       bool
	Open        int
	Tasks       []taskView
	Before      int // kinds of task on earlier pages
	After       int // kinds of task on later pages
	PrevLink    string
	NextLink    string
	Children    []nurseryView
	ChildrenLen int
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

var treePage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nurseries of pid {{.PID}}</title>
<style>
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
</head>
<body>
<header>
<h1>Nurseries</h1>
<p data-summary>pid {{.PID}}, {{.GoVersion}}, at {{.Time}}: {{.Count}} tracked {{if eq .Count 1}}nursery{{else}}nurseries{{end}}, {{.Open}} open {{if eq .Open 1}}task{{else}}tasks{{end}}{{if .Stuck}}, <strong>{{.Stuck}} stuck</strong> (waiting longer than {{.StuckFor}}){{end}}.</p>
<nav><a href="{{.Links.text}}">text</a><a href="{{.Links.json}}">JSON</a><a href="{{.Links.stacks}}">with stacks</a><a href="{{.Links.pprof}}">goroutine profile</a></nav>
</header>
<main>
{{if not .Nurseries}}<p data-empty>No tracked nursery is running.</p>{{end}}
{{range .Nurseries}}{{template "nursery" .}}{{end}}
</main>
</body>
</html>
{{define "nursery"}}<section class="nursery{{if .Stuck}} stuck{{end}}" data-nursery="{{.ID}}" data-state="{{.State}}"{{if .Stuck}} data-stuck{{end}}>
<details open>
<summary>{{if .Name}}<span class="name">{{printf "%q" .Name}}</span>{{else}}<span class="name">nursery</span>{{end}} <span class="meta">#{{.ID}} at <span class="site">{{.Site}}</span>, for {{.Age}}</span><span class="badge {{.State}}">{{.State}}</span>{{if .Until}}<span class="badge until">until cancelled</span>{{end}}{{if .Stuck}}<span class="badge stuckmark">stuck</span>{{end}}</summary>
{{if .Cause}}<p class="cause">cancelled: <q>{{.Cause}}</q></p>{{end}}
{{if .Waiting}}<p class="meta">waiting for its tasks for {{.Waiting}}</p>{{end}}
{{if .Tasks}}<table>
<thead><tr><th>×</th><th>task</th><th>function</th><th>site</th><th>age</th></tr></thead>
<tbody>
{{range .Tasks}}<tr data-task="{{.Name}}" data-count="{{.Count}}"{{if .Stuck}} class="stuck" data-stuck{{end}}><td class="count">{{if gt .Count 1}}×{{.Count}}{{end}}</td><td class="name">{{if .Name}}{{printf "%q" .Name}}{{end}}{{if .Until}} <span class="badge until">until cancelled</span>{{end}}</td><td class="func">{{.Func}}</td><td class="site">{{.Site}}</td><td>{{.Age}}{{if gt .Count 1}} (oldest){{end}}</td></tr>
{{if .Stack}}<tr><td></td><td colspan="4"><pre>{{.Stack}}</pre></td></tr>{{end}}{{end}}</tbody>
</table>{{else}}<p class="meta">no open task</p>{{end}}
{{if or .Before .After}}<p class="meta" data-more>{{.Open}} open tasks{{if .Before}}, {{.Before}} kinds on earlier pages (<a href="{{.PrevLink}}">previous</a>){{end}}{{if .After}}, {{.After}} kinds on later pages (<a href="{{.NextLink}}">next</a>){{end}}</p>{{end}}
{{range .Children}}{{template "nursery" .}}{{end}}
</details>
</section>
{{end}}`))

// writeTreeHTML writes the page of infos, taken at now, with each
// nursery's kinds of task cut to p; Runs waiting longer than stuck are
// marked. q is the request's query, which the links keep.
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
	return treePage.Execute(w, v)
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
	kinds := foldTasks(info.Tasks)
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
// stuck: since the body returned or the nursery was cancelled, or, for a
// task meant to run until cancelled, since the cancellation.
func taskStuck(info NurseryInfo, t TaskInfo, now time.Time, stuck time.Duration) bool {
	since := info.Waiting
	if t.UntilCancelled {
		since = info.Cancelled
	}
	return !since.IsZero() && now.Sub(since) > stuck
}

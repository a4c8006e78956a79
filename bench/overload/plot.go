package overload

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	fixedpt "golang.org/x/image/math/fixed"
)

// A series is one line of the plot: the limit every 100 ms.
type series struct {
	name   string
	color  color.RGBA
	values []float64
	dashed bool
}

// A panel is one variant's plot.
type panel struct {
	title  string
	series []series
}

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{220, 220, 220, 255}
	dark  = color.RGBA{110, 110, 110, 255}
)

// plotLimits writes a PNG of the panels, one above the other: the limit of
// each series against time, 0 to 90 s, 0 to maxLimit.
func plotLimits(w io.Writer, panels []panel, maxLimit float64) error {
	const (
		width, panelHeight = 1100, 380
		left, right        = 60, 190
		top, bottom        = 30, 40
	)
	img := image.NewRGBA(image.Rect(0, 0, width, panelHeight*len(panels)))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	for i, p := range panels {
		y0 := i * panelHeight
		plotW := width - left - right
		plotH := panelHeight - top - bottom
		x := func(t float64) float64 { return float64(left) + t/90*float64(plotW) }
		y := func(v float64) float64 { return float64(y0+top) + (1-v/maxLimit)*float64(plotH) }
		// Grid and axes.
		for t := 0.0; t <= 90; t += 10 {
			line(img, x(t), y(0), x(t), y(maxLimit), grey, 1, false)
			text(img, int(x(t))-8, y0+panelHeight-bottom+16, fmt.Sprintf("%gs", t), dark)
		}
		for v := 0.0; v <= maxLimit; v += 10 {
			line(img, x(0), y(v), x(90), y(v), grey, 1, false)
			text(img, left-28, int(y(v))+4, fmt.Sprintf("%3g", v), dark)
		}
		line(img, x(0), y(0), x(90), y(0), black, 1, false)
		line(img, x(0), y(0), x(0), y(maxLimit), black, 1, false)
		text(img, left, y0+top-10, p.title, black)
		for k, s := range p.series {
			for j := 1; j < len(s.values); j++ {
				a, b := s.values[j-1], s.values[j]
				if math.IsNaN(a) || math.IsNaN(b) {
					continue
				}
				t0, t1 := float64(j-1)/10, float64(j)/10
				line(img, x(t0), y(min(a, maxLimit)), x(t1), y(min(b, maxLimit)), s.color, 2, s.dashed)
			}
			ly := y0 + top + 10 + 18*k
			line(img, float64(width-right+10), float64(ly-4), float64(width-right+40), float64(ly-4), s.color, 2, s.dashed)
			text(img, width-right+46, ly, s.name, black)
		}
	}
	return png.Encode(w, img)
}

// line draws a line of the given width from (x0, y0) to (x1, y1), dashed
// if asked.
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA, width int, dashed bool) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		if dashed && (i/6)%2 == 1 {
			continue
		}
		f := float64(i) / float64(n)
		px := int(math.Round(x0 + f*(x1-x0)))
		py := int(math.Round(y0 + f*(y1-y0)))
		for dx := 0; dx < width; dx++ {
			for dy := 0; dy < width; dy++ {
				img.SetRGBA(px+dx-width/2, py+dy-width/2, c)
			}
		}
	}
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := &font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(c),
		Face: basicfont.Face7x13,
		Dot:  fixedpt.P(x, y),
	}
	d.DrawString(s)
}

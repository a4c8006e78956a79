package retry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads the Retry-After header of resp (RFC 9110, section
// 10.2.3): a number of seconds, or an HTTP-date, which it measures from the
// response's Date header if it has one and from now if not. A date in the
// past gives 0. It reports false if resp is nil or the header is missing or
// malformed.
//
// Pass the result to After, which Do caps with MaxHint:
//
//	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
//		err := fmt.Errorf("GET %s: %s", url, resp.Status)
//		if d, ok := retry.RetryAfter(resp); ok {
//			return retry.After(d, err)
//		}
//		return err
//	}
func RetryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return time.Duration(1<<63 - 1), true // absurdly far: MaxHint caps it
			}
			return 0, false
		}
		if secs > int64((1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	now := time.Now()
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = date
	}
	return max(when.Sub(now), 0), true
}

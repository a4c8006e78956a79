module github.com/structured-go/structured

go 1.25

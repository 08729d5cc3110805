// A tool of scripts/dist_go.sh, its own module so golang.org/x/mod stays out
// of the client module.
module github.com/datagw/datagw/scripts/goproxy

go 1.26.0

require golang.org/x/mod v0.41.0

// This file only keeps the front end's node_modules out of `go ./...`: a directory with a go.mod is
// another module to the go command, and some npm packages ship .go files. Nothing here is Go.
module github.com/wcpd/wcpd/web

go 1.26

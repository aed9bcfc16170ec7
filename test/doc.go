// Package test holds wcpd's end-to-end tests: each starts whole servers in process and drives them
// only through the clients people use — plain HTTP, govmomi's vapi/rest and vapi/namespace clients,
// and govc run in process.
package test

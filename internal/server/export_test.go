package server

// SelfSigned exposes certificate generation to the external tests.
var SelfSigned = selfSigned

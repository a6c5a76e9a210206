// Command vestigo is the command-line interface of Vestigo, an open-source
// cryptocurrency investigation platform: it builds a local index of a
// chain and answers questions about its blocks, transactions and
// addresses. Run "vestigo help" for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

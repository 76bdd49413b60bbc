// Command broken does not compile, for the test of Build's error report.
package main

func main() {
	var n int = "not a number"
	_ = n
}

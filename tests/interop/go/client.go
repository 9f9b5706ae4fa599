/* SPDX-License-Identifier: ISC */
// Go's net/rpc with ugorji/go's MsgpackSpecRpc codec, unmodified, against
// leasepoold.  Usage: client SOCKET.  net/rpc reads an error as a string
// and closes the connection when it is anything else: hello asks for
// errors as strings.  A nil argument goes out as params [nil].  Prints one
// line per step, for tests/integration/test_interop.c.
package main

import (
	"fmt"
	"net"
	"net/rpc"
	"os"
	"reflect"

	"github.com/ugorji/go/codec"
)

func main() {
	conn, err := net.Dial("unix", os.Args[1])
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	var mh codec.MsgpackHandle
	mh.MapType = reflect.TypeOf(map[string]interface{}(nil))
	mh.RawToString = true
	client := rpc.NewClientWithCodec(codec.MsgpackSpecRpc.ClientCodec(conn, &mh))
	defer client.Close()

	var hello map[string]interface{}
	check(client.Call("hello", map[string]interface{}{"client": "go", "errors": "string"}, &hello))
	fmt.Println("hello:", hello["server"] != nil)
	var pong bool
	check(client.Call("ping", nil, &pong))
	fmt.Println("ping:", pong)
	var stats map[string]interface{}
	check(client.Call("stats", nil, &stats))
	fmt.Println("stats:", stats["pools"] != nil)
	var acquired map[string]interface{}
	check(client.Call("acquire", map[string]interface{}{"owner": "go"}, &acquired))
	lease := acquired["lease"]
	fmt.Println("acquire:", lease != nil)
	var echoed interface{}
	check(client.Call("run", map[string]interface{}{"lease": lease, "fn": "echo",
		"args": []interface{}{42}}, &echoed))
	fmt.Println("run:", echoed)
	err = client.Call("run", map[string]interface{}{"lease": lease, "fn": "no_such_function"}, &echoed)
	fmt.Println("error:", err)
	var released bool
	check(client.Call("release", map[string]interface{}{"lease": lease}, &released))
	fmt.Println("release:", released)
}

func check(err error) {
	if err != nil {
		fmt.Println("failed:", err)
		os.Exit(1)
	}
}

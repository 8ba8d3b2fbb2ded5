package pages

// Assets are the URLs of the bundle every page loads: one script (it mounts
// the view of whichever page it finds), its stylesheet and the wasm client.
// All empty when the server runs without web assets (some tests): the
// lesson pages then render without them.
type Assets struct {
	Script string
	Style  string
	Wasm   string
	// Class is true in a class (--workshop): the page script then shows
	// the class bar and follows the instructor's notes and pushes.
	Class bool
	// Static is true in the static build (--build-static): the broker runs
	// inside the page, <html data-build="static"> tells the page script so,
	// and every page says so (StaticNote).
	Static bool
}

package pages

import "context"

// embedKey marks a request for a page in embed mode.
type embedKey struct{}

// WithEmbed marks ctx as rendering a page for embedding (?embed=1): no
// navigation, a compact header, and the page script reports its height to
// the host page instead of scrolling it.
func WithEmbed(ctx context.Context) context.Context {
	return context.WithValue(ctx, embedKey{}, true)
}

// Embedded reports whether ctx renders a page for embedding.
func Embedded(ctx context.Context) bool {
	v, _ := ctx.Value(embedKey{}).(bool)
	return v
}

package auth

import (
	"context"
	"testing"
)

func TestContextCarriesPrincipal(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("a bare context has a principal")
	}
	got, ok := FromContext(NewContext(context.Background(), Principal{Name: "ci"}))
	if !ok || got.Name != "ci" {
		t.Fatalf("FromContext = %+v, %v; want ci", got, ok)
	}
}

package deployer

import (
	"context"
	"net/http"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Prepare loads the template at source (see Load), renders vars into it
// (see Render), reports placeholders of Placeholders left without a value
// and checks the result as the scheduler would (see Check). Errors about
// the template are *TemplateError.
func Prepare(ctx context.Context, source string, vars map[string]string, client *http.Client) (Definition, error) {
	tmpl, err := Load(ctx, source, client)
	if err != nil {
		return Definition{}, err
	}
	return PrepareText(source, tmpl, vars)
}

// PrepareText is Prepare for a template already read.
func PrepareText(source string, tmpl []byte, vars map[string]string) (Definition, error) {
	rendered := Render(tmpl, vars)
	var missing []string
	for _, name := range Placeholders {
		if _, ok := vars[name]; !ok {
			missing = append(missing, name)
		}
	}
	if left := Unrendered(rendered, missing); len(left) > 0 {
		return Definition{}, &TemplateError{Source: source, Message: MsgUnrendered, Problems: left}
	}
	// The scheduler's --max_instances_per_app is unknown here: it checks
	// the instances itself.
	return Check(source, rendered, marathon.NormalizeOptions{MaxInstances: -1})
}

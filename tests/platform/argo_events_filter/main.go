// Command filter runs Argo Events' own dependency filter (pkg/sensors/dependencies, v1.9.11) on one
// event, so tests/platform can check that its offline Sensor model agrees with the real thing.
//
// usage: filter FILTERS_JSON EVENT_DATA_JSON  -> prints true or false (and the filter error on stderr)
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/argo-events/pkg/apis/events/v1alpha1"
	"github.com/argoproj/argo-events/pkg/sensors/dependencies"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	var filter v1alpha1.EventDependencyFilter
	if err := json.Unmarshal([]byte(os.Args[1]), &filter); err != nil {
		panic(err)
	}
	event := &v1alpha1.Event{
		Context: &v1alpha1.EventContext{Source: "github", Type: "github", Time: metav1.Now()},
		Data:    []byte(os.Args[2]),
	}
	ok, err := dependencies.Filter(event, &filter, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Println(ok)
}

// manifest-check: strict decoding of Kubernetes manifests against the API types of
// k8s.io/api (the kinds listed in kinds below). Unknown or misspelt fields, wrong types
// and unknown kinds are errors; it prints one line per object and exits 1 on the first
// invalid document.
//
//	go run ./tools/manifest-check deploy/kubernetes/*.yaml
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var kinds = map[string]func() any{
	"apps/v1/Deployment":                   func() any { return &appsv1.Deployment{} },
	"v1/Service":                           func() any { return &corev1.Service{} },
	"v1/ConfigMap":                         func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                            func() any { return &corev1.Secret{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":        func() any { return &policyv1.PodDisruptionBudget{} },
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func check(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	reader := utilyaml.NewYAMLReader(bufioReader(data))
	for index := 1; ; index++ {
		document, err := reader.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", file, index, err)
		}
		if len(bytes.TrimSpace(document)) == 0 {
			continue
		}
		var meta typeMeta
		if err := yaml.Unmarshal(document, &meta); err != nil {
			return fmt.Errorf("%s: document %d: %w", file, index, err)
		}
		key := meta.APIVersion + "/" + meta.Kind
		newObject, known := kinds[key]
		if !known {
			return fmt.Errorf("%s: document %d: kind %s is not one this check knows", file, index, key)
		}
		if err := yaml.UnmarshalStrict(document, newObject()); err != nil {
			return fmt.Errorf("%s: %s %s: %w", file, key, meta.Metadata.Name, err)
		}
		fmt.Printf("%s: %s %s: valid\n", file, key, meta.Metadata.Name)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: manifest-check FILE.yaml ...")
		os.Exit(2)
	}
	for _, file := range os.Args[1:] {
		if err := check(file); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }

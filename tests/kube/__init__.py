"""Tests of the kube plumbing: diff, discovery, first lists, watches and stored kubeconfigs."""

"""Tests of the reconciler: source, render, apply, drift, freeze, pin, rollout, windows, shards, alerts, webhooks."""

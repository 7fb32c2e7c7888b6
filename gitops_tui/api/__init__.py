"""Typed views of the management objects, CRD manifests, and the names of labels, annotations, finalizers and conditions. No I/O."""

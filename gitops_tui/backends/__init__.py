"""The console's read side: the backends behind ``views.backend.Backend`` (live and static), with all their I/O.

At the layer of ``actions`` and ``views``: it may import api, kube, reconciler, helm, journal, actions and views;
``tui`` and ``cli`` import it; it never imports textual. ``views`` stays pure (no I/O).
"""

"""maeum's engine on Ray Serve (``maeum serve``): the model and ingress deployments in ``app``, the
command in ``cli``. Imported only where ``ray[serve]`` is installed (``pip install 'maeum[serve]'``)."""

__all__ = ["app", "cli"]

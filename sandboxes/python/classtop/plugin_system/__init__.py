"""The specification's module layout: ``classtop.plugin_system.base`` and ``.exceptions``."""

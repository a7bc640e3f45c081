"""How the registry is shown to people: the static dashboard and Markdown tables. Above the
core (it reads registry views and annotations, the core imports nothing from here), and the
only part of the package besides the dispatcher that imports Jinja."""

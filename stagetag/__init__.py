"""stagetag's registry core: the GTO tag grammar, `.gto` config, registry state and git I/O."""

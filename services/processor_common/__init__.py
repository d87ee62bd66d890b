"""What every processor plug-in shares: the plug-in interface, the error taxonomy, the
PayLoops test tokens, the generic ProcessorService servicer and the service entry point."""

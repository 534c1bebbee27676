"""The data layer: files in, plain arrays out. Imports nothing of the engine or the network.

``idx`` reads and verifies the IDX files, ``download`` fetches them, ``book_pickle`` reads the
book's ``mnist.pkl.gz``, ``split`` cuts and caches the book's split, ``datasets`` locates the
files and ties it together.
"""

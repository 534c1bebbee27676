"""The data layer: files in, plain arrays out. Imports nothing of the engine or the network.

``stream`` reads a file's bytes in order, gunzipping on the fly and never more than asked for;
``idx`` reads and verifies the IDX files, ``download`` fetches them, ``book_pickle`` reads the
book's ``mnist.pkl.gz``, ``split`` cuts and caches the book's split, ``datasets`` locates the
files and ties it together.
"""

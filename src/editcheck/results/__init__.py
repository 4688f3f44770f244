"""The results layer: the writer and the reader of each output folder side by side, each with its column
lists in one place. :mod:`.sample` / :mod:`.sample_reader`: one sample's on-target folder (``quantify``);
:mod:`.pool`: a pooled folder (``quantify-pool``); :mod:`.offtarget`: an off-target panel folder
(``offtarget``); :mod:`.files`: the shared checks of a result file a reader opens.

Writers import the engine (pipeline, pooled, offtarget); readers return plain values; ``report`` reads results
only through these readers, and nothing here imports ``report``.
"""

"""Selection from clicks and boxes: the ``Segmenter`` protocol (``protocol``), the click benchmark
protocol (``clicks``), Segment Anything (``sam``) and the classical graph-cut selector (``classic``)."""

"""Pictures of the lesson: own SVG drawings, Graphviz DOT text, the HTML report."""

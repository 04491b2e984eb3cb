"""What a spec costs beyond its forward counts: training cost, other tools' counts, comparisons, design, the papers.

Plain Python (no torch); imports only from core."""

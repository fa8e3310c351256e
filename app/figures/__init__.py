"""Plotly figure builders: pure functions of arrays, a step t and options → ``go.Figure``.

Conventions everywhere: one diverging scale centred at 0 (positive red, negative blue) and one colour
range per figure, fixed across all steps (the caller passes it); matrices drawn with row 0 at the top;
axes labelled (value dim ↓, key dim →). Nothing here imports Streamlit, and no NaN is ever drawn:
builders receive finite arrays (the pages cut a diverged trace before its first bad step).

``_spec`` holds what every builder shares (the scale, palette, fonts, chart config, layouts, the assembly of a
figure and the self-styled spec the pages send); one module per page family holds its builders: ``explorer``
(Explorer and Home), ``lab`` (Compare, Capacity, Forms), ``biology`` and ``programmer``. Every public name is
importable from here: ``from app import figures; figures.weights_figure(...)``.
"""

from __future__ import annotations

from ._spec import (APP_FONT, CHART_CONFIG, COLORSCALE, FONT, OUTLINE, RULE_COLORS, ChartSpec, colour_stops,
                    data_revision, legend_for, legend_html, outlines_for, page_spec, self_styled, symmetric_range)
from .biology import (bio_btsp_fields_figure, bio_btsp_laps_figure, bio_btsp_window_figure, bio_kv_sweep_figure,
                      bio_oja_figure, bio_oja_inputs_figure, bio_stored_figure, bio_stp_figure, bio_three_factor_figure)
from .explorer import (attention_figure, contribution_labels, retrieval_error_figure,
                       smooth_playback_figure, weights_figure, weights_figure_at, write_read_figure)
from .lab import (capacity_figure, chunk_sizes_figure, compare_weights_figure, forms_outputs_figure, matrices_figure,
                  recall_errors_figure, recency_figure, timing_figure, values_figure, vectors_figure)
from .language import curves_figure, memory_figure, prediction_figure, retrieval_figure, shown_char
from .programmer import eigen_timeline_figure, programme_figure, training_figure

__all__ = [
    # shared: constants, the colour legend, the spec sent to st.plotly_chart
    "APP_FONT", "CHART_CONFIG", "COLORSCALE", "FONT", "OUTLINE", "RULE_COLORS", "ChartSpec", "colour_stops",
    "data_revision", "legend_for", "legend_html", "outlines_for", "page_spec", "self_styled", "symmetric_range",
    # Explorer and Home
    "attention_figure", "contribution_labels", "retrieval_error_figure", "smooth_playback_figure",
    "weights_figure", "weights_figure_at", "write_read_figure",
    # Compare, Capacity, Forms
    "capacity_figure", "chunk_sizes_figure", "compare_weights_figure", "forms_outputs_figure", "matrices_figure",
    "recall_errors_figure", "recency_figure", "timing_figure", "values_figure", "vectors_figure",
    # Biology
    "bio_btsp_fields_figure", "bio_btsp_laps_figure", "bio_btsp_window_figure", "bio_kv_sweep_figure", "bio_oja_figure",
    "bio_oja_inputs_figure", "bio_stored_figure", "bio_stp_figure", "bio_three_factor_figure",
    # Programmer
    "eigen_timeline_figure", "programme_figure", "training_figure",
    # Language
    "curves_figure", "memory_figure", "prediction_figure", "retrieval_figure", "shown_char",
]

"""The FWP ↔ biology mapping table and the open questions, as plain data (no code, no imports).

``fwp_core.biology.mapping`` turns these into frozen dataclasses and checks them (every row has a source,
every source key exists). Each row cites what it rests on by keys into ``SOURCES``. A row may say that it
follows the Irie & Gershman (2025) primer only with ``"after_primer": True``; no row does, because the
primer's full text was not available when the table was written: the rows are built from the works cited.
"""

# key -> (short form for tables, full citation)
SOURCES: dict[str, tuple[str, str]] = {
    "hebb1949": ("Hebb 1949", "Hebb, D. O. (1949). The Organization of Behavior: A Neuropsychological Theory. Wiley."),
    "bliss1973": ("Bliss & Lømo 1973", "Bliss, T. V. P. & Lømo, T. (1973). Long-lasting potentiation of synaptic transmission "
                  "in the dentate area of the anaesthetized rabbit following stimulation of the perforant path. "
                  "Journal of Physiology."),
    "schmidhuber1992": ("Schmidhuber 1992", "Schmidhuber, J. (1992). Learning to control fast-weight memories: an alternative "
                        "to dynamic recurrent networks. Neural Computation."),
    "ba2016": ("Ba et al. 2016", "Ba, J., Hinton, G., Mnih, V., Leibo, J. Z. & Ionescu, C. (2016). Using fast weights to "
               "attend to the recent past. Advances in Neural Information Processing Systems (NIPS)."),
    "schlag2021": ("Schlag, Irie & Schmidhuber 2021", "Schlag, I., Irie, K. & Schmidhuber, J. (2021). Linear transformers "
                   "are secretly fast weight programmers. International Conference on Machine Learning (ICML)."),
    "katharopoulos2020": ("Katharopoulos et al. 2020", "Katharopoulos, A., Vyas, A., Pappas, N. & Fleuret, F. (2020). "
                          "Transformers are RNNs: fast autoregressive transformers with linear attention. ICML."),
    "widrow1960": ("Widrow & Hoff 1960", "Widrow, B. & Hoff, M. E. (1960). Adaptive switching circuits. IRE WESCON "
                   "Convention Record."),
    "magee2020": ("Magee & Grienberger 2020", "Magee, J. C. & Grienberger, C. (2020). Synaptic plasticity forms and "
                  "functions. Annual Review of Neuroscience."),
    "fremaux2016": ("Frémaux & Gerstner 2016", "Frémaux, N. & Gerstner, W. (2016). Neuromodulated spike-timing-dependent "
                    "plasticity, and theory of three-factor learning rules. Frontiers in Neural Circuits."),
    "gerstner2018": ("Gerstner et al. 2018", "Gerstner, W., Lehmann, M., Liakoni, V., Corneil, D. & Brea, J. (2018). "
                     "Eligibility traces and plasticity on behavioral time scales: experimental support of neoHebbian "
                     "three-factor learning rules. Frontiers in Neural Circuits."),
    "yagishita2014": ("Yagishita et al. 2014", "Yagishita, S., Hayashi-Takagi, A., Ellis-Davies, G. C. R., Urakubo, H., "
                      "Ishii, S. & Kasai, H. (2014). A critical time window for dopamine actions on the structural "
                      "plasticity of dendritic spines. Science."),
    "tsodyks1997": ("Tsodyks & Markram 1997", "Tsodyks, M. V. & Markram, H. (1997). The neural code between neocortical "
                    "pyramidal neurons depends on neurotransmitter release probability. PNAS."),
    "tsodyks1998": ("Tsodyks, Pawelzik & Markram 1998", "Tsodyks, M., Pawelzik, K. & Markram, H. (1998). Neural networks "
                    "with dynamic synapses. Neural Computation."),
    "mongillo2008": ("Mongillo, Barak & Tsodyks 2008", "Mongillo, G., Barak, O. & Tsodyks, M. (2008). Synaptic theory of "
                     "working memory. Science."),
    "stokes2015": ("Stokes 2015", "Stokes, M. G. (2015). 'Activity-silent' working memory in prefrontal cortex: a dynamic "
                   "coding framework. Trends in Cognitive Sciences."),
    "davis2017": ("Davis & Zhong 2017", "Davis, R. L. & Zhong, Y. (2017). The biology of forgetting — a perspective. Neuron."),
    "bittner2015": ("Bittner et al. 2015", "Bittner, K. C., Grienberger, C., Vaidya, S. P., Milstein, A. D., Macklin, J. J., "
                    "Suh, J., Tonegawa, S. & Magee, J. C. (2015). Conjunctive input processing drives feature selectivity "
                    "in hippocampal CA1 neurons. Nature Neuroscience."),
    "bittner2017": ("Bittner et al. 2017", "Bittner, K. C., Milstein, A. D., Grienberger, C., Romani, S. & Magee, J. C. "
                    "(2017). Behavioral time scale synaptic plasticity underlies CA1 place fields. Science."),
    "milstein2021": ("Milstein et al. 2021", "Milstein, A. D., Li, Y., Bittner, K. C., Grienberger, C., Soltesz, I., "
                     "Magee, J. C. & Romani, S. (2021). Bidirectional synaptic plasticity rapidly modifies hippocampal "
                     "representations. eLife."),
    "gershman2025": ("Gershman, Fiete & Irie 2025", "Gershman, S. J., Fiete, I. & Irie, K. (2025). Key-value memory in the "
                     "brain. Neuron."),
    "teyler1986": ("Teyler & DiScenna 1986", "Teyler, T. J. & DiScenna, P. (1986). The hippocampal memory indexing theory. "
                   "Behavioral Neuroscience."),
    "oja1982": ("Oja 1982", "Oja, E. (1982). Simplified neuron model as a principal component analyzer. Journal of "
                "Mathematical Biology."),
    "turrigiano1998": ("Turrigiano et al. 1998", "Turrigiano, G. G., Leslie, K. R., Desai, N. S., Rutherford, L. C. & "
                       "Nelson, S. B. (1998). Activity-dependent scaling of quantal amplitude in neocortical neurons. Nature."),
    "kozachkov2023": ("Kozachkov, Kastanenka & Krotov 2023", "Kozachkov, L., Kastanenka, K. V. & Krotov, D. (2023). "
                      "Building transformers from neurons and astrocytes. PNAS."),
    "carandini2012": ("Carandini & Heeger 2012", "Carandini, M. & Heeger, D. J. (2012). Normalization as a canonical neural "
                      "computation. Nature Reviews Neuroscience."),
    "marr1969": ("Marr 1969", "Marr, D. (1969). A theory of cerebellar cortex. Journal of Physiology."),
    "cayco2019": ("Cayco-Gajic & Silver 2019", "Cayco-Gajic, N. A. & Silver, R. A. (2019). Re-evaluating circuit mechanisms "
                  "underlying pattern separation. Neuron."),
}

PRIMER: tuple[str, str] = (
    "Irie & Gershman 2025",
    "Irie, K. & Gershman, S. J. (2025). Fast weight programming and linear transformers: from machine learning to "
    "neurobiology. arXiv:2508.08435.",
)

PRIMER_NOTE = (
    "Irie & Gershman (2025) is a primer on fast weight programmers; its abstract says it also discusses connections "
    "between FWPs and models of synaptic plasticity in the brain. Its full text was not available when this table was "
    "written, so no row is attributed to it: each row names the works it rests on, and the link itself is this app's "
    "reading of them unless the row says otherwise."
)

# One row per FWP quantity. status: "established" or "hypothesis" (see fwp_core.biology.STATUSES);
# simulation: the function of fwp_core.biology that shows the link, or None.
LINKS: tuple[dict, ...] = (
    {
        "quantity": "fast weight", "symbol": "W_t",
        "counterpart": "The strengths of a set of synapses onto a neuron, changing within seconds to minutes (short-term "
                       "plasticity, early long-term potentiation, behavioural-timescale plasticity).",
        "status": "established",
        "explanation": "Synapses do change on these time scales, and the changes outlast the activity that caused them "
                       "(Magee & Grienberger 2020 review the forms of plasticity). Fast weights were proposed as "
                       "connections that change this quickly: written by a slow network in Schmidhuber (1992), and as a "
                       "decaying Hebbian memory of the recent past in Ba et al. (2016). Treating a whole population of synapses as one matrix that the rest of the network "
                       "writes to is the modelling step.",
        "simulation": None, "sources": ("schmidhuber1992", "ba2016", "magee2020"),
    },
    {
        "quantity": "write (outer product)", "symbol": "β_t v_t k_tᵀ",
        "counterpart": "Hebbian plasticity: a synapse strengthens when its presynaptic input and the postsynaptic cell "
                       "are active together.",
        "status": "established",
        "explanation": "Hebb (1949) postulated it; coincidence-driven potentiation is now among the best-studied facts "
                       "about synapses (Bliss & Lømo 1973; reviewed by Magee & Grienberger 2020). The outer product is "
                       "its rate-based idealisation: every synapse changes by (post activity) × (pre activity). The same outer-product write is "
                       "what linear attention computes (Schlag, Irie & Schmidhuber 2021).",
        "simulation": "three_factor", "sources": ("hebb1949", "bliss1973", "magee2020", "schlag2021"),
    },
    {
        "quantity": "write strength vs third factor", "symbol": "β_t vs M_t",
        "counterpart": "A third factor: a neuromodulator such as dopamine that decides whether, and how strongly, "
                       "recently tagged coincidences become lasting weight changes.",
        "status": "established",
        "explanation": "Three-factor plasticity is shown experimentally: a coincidence leaves an eligibility trace, "
                       "and dopamine arriving in a narrow window (about 0.3–2 s) after it still turns it into lasting "
                       "spine enlargement (Yagishita et al. 2014; reviewed by Gerstner et al. 2018 and Magee & "
                       "Grienberger 2020; theory of such rules: Frémaux & Gerstner 2016). In FWP terms M_t is not the β_t of one Hebbian fast weight: it arrives "
                       "after the coincidence, so the causal form needs two fast weights, the trace E_t and W_t, with "
                       "M_t gating E_t into W (see the simulation). One Hebbian fast weight reproduces only the final "
                       "W_T, with β_s = Σ_{t≥s} M_t λ^{t−s}, which needs rewards that come after step s. M_t is "
                       "exactly β_t only when it arrives with the coincidence and the trace lasts one step (λ = 0).",
        "simulation": "three_factor", "sources": ("yagishita2014", "gerstner2018", "fremaux2016", "magee2020"),
    },
    {
        "quantity": "eligibility trace", "symbol": "E_t",
        "counterpart": "A molecular tag at a synapse that remembers a recent coincidence for seconds (at some synapses "
                       "minutes).",
        "status": "established",
        "explanation": "Eligibility traces lasting from about a second to minutes have been measured in striatum, "
                       "cortex and hippocampus (reviewed by Gerstner et al. 2018); three-factor learning rules with such a "
                       "trace are reviewed by Frémaux & Gerstner (2016). Mathematically the trace is itself a "
                       "decaying fast weight (the decay rule with γ = λ), so three-factor learning is an FWP with two "
                       "fast weights: E_t, written at every coincidence, and W_t, into which the third factor gates it.",
        "simulation": "three_factor", "sources": ("gerstner2018", "fremaux2016"),
    },
    {
        "quantity": "constant decay", "symbol": "γ",
        "counterpart": "Passive decay of short-term synaptic changes: facilitation fades with a time constant τ_F of "
                       "about a second, so a memory held in it fades too.",
        "status": "established",
        "explanation": "Short-term depression and facilitation are textbook synaptic properties, captured by the "
                       "Tsodyks–Markram model (Tsodyks & Markram 1997; with facilitation, Tsodyks, Pawelzik & Markram "
                       "1998). Mongillo, Barak & Tsodyks (2008) showed in a model that facilitation can hold an item "
                       "for about τ_F without any spiking (activity-silent working memory; Stokes 2015 reviews the "
                       "idea). Whether working memory actually relies on it is still debated.",
        "simulation": "short_term_plasticity", "sources": ("tsodyks1997", "tsodyks1998", "mongillo2008", "stokes2015"),
    },
    {
        "quantity": "forget gate", "symbol": "α_t",
        "counterpart": "Controlled forgetting: signals that actively reverse recent synaptic changes when the context "
                       "changes, rather than letting them fade on a fixed clock.",
        "status": "hypothesis",
        "explanation": "Active forgetting mechanisms exist, for example in flies, where dopamine-driven signalling "
                       "erases recent memories (reviewed by Davis & Zhong 2017). But no one has shown a gate that a "
                       "circuit sets moment by moment, as a gated FWP does.",
        "simulation": "short_term_plasticity", "sources": ("davis2017",),
    },
    {
        "quantity": "key", "symbol": "k_t = φ(W_k x_t)",
        "counterpart": "The presynaptic activity pattern at the plastic synapses when a memory is stored, for example the "
                       "inputs to hippocampal CA1.",
        "status": "established",
        "explanation": "The key enters the outer-product write v kᵀ (Schlag, Irie & Schmidhuber 2021) as its "
                       "presynaptic factor, so this part is direct. Which neurons supply keys, and how those patterns are chosen, is open; "
                       "Gershman, Fiete & Irie (2025) propose that hippocampal representations act as keys (see the "
                       "key–value row).",
        "simulation": "kv_retrieval", "sources": ("schlag2021", "gershman2025"),
    },
    {
        "quantity": "value", "symbol": "v_t = W_v x_t",
        "counterpart": "The postsynaptic activity to be stored, often imposed by a teaching input such as the entorhinal "
                       "input that triggers a plateau potential in CA1.",
        "status": "established",
        "explanation": "The value is the postsynaptic factor of the write. In CA1 a plateau potential, driven by a "
                       "separate (entorhinal) input pathway, decides what is written (Bittner et al. 2015, 2017): an "
                       "instructive signal in the terms of Magee & Grienberger (2020), much as a programmer supplies v_t.",
        "simulation": "btsp_place_field", "sources": ("bittner2015", "bittner2017", "magee2020"),
    },
    {
        "quantity": "query and read-out", "symbol": "y_t = W_t q_t",
        "counterpart": "A retrieval cue arriving through the same synapses: reading a memory is ordinary synaptic "
                       "transmission, the postsynaptic cell summing its inputs weighted by synaptic strength.",
        "status": "established",
        "explanation": "Weighted summation is how synapses act on a cell, and the read-out W_t q_t is what linear "
                       "attention computes (Schlag, Irie & Schmidhuber 2021). What the brain uses as a separate query "
                       "(how a cue is formed at recall) is less clear; Gershman, Fiete & Irie (2025) argue that a poor "
                       "cue can fail to reach a memory that is still stored.",
        "simulation": "kv_retrieval", "sources": ("schlag2021", "gershman2025"),
    },
    {
        "quantity": "keys for discrimination, values for fidelity", "symbol": "k vs v",
        "counterpart": "Key–value memory in the brain: one representation specialised for telling memories apart (e.g. "
                       "hippocampal codes) and another for storing their content faithfully (e.g. neocortex). "
                       "Forgetting is then often a failure to retrieve, not a loss of storage.",
        "status": "hypothesis",
        "explanation": "Proposed by Gershman, Fiete & Irie (2025). It fits memory-index theory (Teyler & DiScenna 1986) "
                       "and the many cases where 'lost' memories return with the right cue, but separate key and value "
                       "codes have not been shown directly.",
        "simulation": "kv_retrieval", "sources": ("gershman2025", "teyler1986"),
    },
    {
        "quantity": "error-correcting (delta) write", "symbol": "β_t (v_t − W_{t−1}k_t) k_tᵀ",
        "counterpart": "Behavioural-timescale synaptic plasticity (BTSP): one plateau potential writes a place field in a "
                       "single trial, with a seconds-wide window; the change depends on the synapse's current weight "
                       "and can go up or down.",
        "status": "hypothesis",
        "explanation": "BTSP is established (Bittner et al. 2017), and like the delta rule (Widrow & Hoff 1960; as an "
                       "FWP write, Schlag, Irie & Schmidhuber 2021) it is one-shot, bounded and bidirectional: weak "
                       "inputs potentiate and strong ones depress (Milstein et al. 2021). But its correction uses each "
                       "synapse's own weight, while the delta rule uses the whole neuron's answer W k. The climbing-"
                       "fibre input to the cerebellum, proposed as a teaching signal by Marr (1969), is another "
                       "candidate for error-driven writes.",
        "simulation": "btsp_place_field",
        "sources": ("bittner2017", "milstein2021", "widrow1960", "schlag2021", "marr1969"),
    },
    {
        "quantity": "self-normalising Hebbian rule", "symbol": "Oja",
        "counterpart": "Homeostatic mechanisms that keep total synaptic strength in range (synaptic scaling, "
                       "heterosynaptic depression).",
        "status": "hypothesis",
        "explanation": "Plain Hebbian growth is unstable. Oja's rule (Oja 1982) adds a decay proportional to the "
                       "squared output: the weight norm converges to 1, and of its fixed points (0 and every "
                       "eigenvector of the input covariance) only the top eigenvector is stable, so the neuron becomes "
                       "a principal-component detector. Synaptic scaling exists (Turrigiano et al. 1998) but acts over "
                       "hours to days, and whether any homeostatic mechanism acts like Oja's term is open.",
        "simulation": "oja_pca", "sources": ("oja1982", "turrigiano1998"),
    },
    {
        "quantity": "programmer", "symbol": "slow weights W_k, W_v, W_q, W_β",
        "counterpart": "Slowly learned circuits whose activity decides what is written at fast synapses, where and how "
                       "strongly (for example the inputs that trigger plateau potentials, or neuromodulatory nuclei).",
        "status": "hypothesis",
        "explanation": "In an FWP a slow network learns to program the fast weights (Schmidhuber 1992). In the brain, "
                       "instructive signals from other circuits decide what some synapses learn (Magee & Grienberger "
                       "2020), but which circuits act as the programmer, and how they are trained, is not known.",
        "simulation": None, "sources": ("schmidhuber1992", "magee2020"),
    },
    {
        "quantity": "normaliser", "symbol": "z_t, y_t = W_t q_t / (z_tᵀ q_t)",
        "counterpart": "Astrocytes, which contact many synapses and integrate their activity over time; or divisive "
                       "normalisation by inhibitory interneurons.",
        "status": "hypothesis",
        "explanation": "Normalised linear attention divides the read-out by z_tᵀ q_t, a running sum of past keys "
                       "(Katharopoulos et al. 2020). Kozachkov, Kastanenka & Krotov (2023) propose a model in which "
                       "neuron–astrocyte networks implement the core computation of a transformer block; divisive "
                       "normalisation is common in cortex (Carandini & Heeger 2012). Whether either divides by an "
                       "accumulated key sum is untested.",
        "simulation": None, "sources": ("katharopoulos2020", "kozachkov2023", "carandini2012"),
    },
    {
        "quantity": "feature map", "symbol": "φ",
        "counterpart": "Expansion and sparsening of inputs before storage (dentate gyrus, cerebellar granule cells), "
                       "which makes patterns more distinct.",
        "status": "hypothesis",
        "explanation": "Expansion recoding reduces overlap between stored patterns (Marr 1969; reviewed by Cayco-Gajic "
                       "& Silver 2019), as feature maps that expand keys into more dimensions (DPFP) reduce crosstalk "
                       "between keys (Schlag, Irie & Schmidhuber 2021). The correspondence is by analogy.",
        "simulation": None, "sources": ("marr1969", "cayco2019", "schlag2021"),
    },
)

OPEN_QUESTIONS: tuple[dict, ...] = (
    {
        "question": "How could a synapse know the error term W k?",
        "why_it_matters": "The delta rule changes each synapse by (v − W k)·k: the difference between what the memory "
                          "should say and what it says now. W k is the sum over all the neuron's synapses, so no single "
                          "synapse sees it directly. Without it the write is Hebbian, and similar keys pile up as crosstalk.",
        "candidate_answers": "The postsynaptic voltage already is W k, so a rule that compares a teaching input (for "
                             "example in the distal dendrite) with the voltage produced by the other inputs could supply "
                             "it. BTSP's dependence on the synapse's own weight is a local stand-in. Whether either "
                             "really computes v − W k is unknown.",
    },
    {
        "question": "What would implement β > 1?",
        "why_it_matters": "With a unit key the delta step multiplies the memory along k by 1 − β. For β in (1, 2) that "
                          "factor is negative: the write overshoots and flips the sign of that component, which is what "
                          "lets delta-rule FWPs track parity and other state. A biological synapse would have to change "
                          "by more than the error it is correcting.",
        "candidate_answers": "No known mechanism. A synapse cannot change sign (an excitatory synapse stays excitatory), "
                             "so a flip would need paired excitatory and inhibitory pathways, or a strong neuromodulatory "
                             "burst that over-corrects on purpose. This is an open prediction.",
    },
    {
        "question": "How are keys and values learned biologically?",
        "why_it_matters": "In an FWP the slow weights that produce k, v and q are trained by gradient descent through "
                          "many sequences, which is how the keys become distinct and the values useful. The brain has no "
                          "obvious way to back-propagate errors through the fast-weight memory.",
        "candidate_answers": "Candidates: random expansion and sparse codes that make keys distinct without training "
                             "(dentate gyrus); slow local learning rules; evolution and development shaping the circuits; "
                             "consolidation that reuses replayed memories as training data.",
    },
    {
        "question": "What, if anything, is the normaliser?",
        "why_it_matters": "Normalised linear attention divides the read-out by z_tᵀ q_t, a running sum of past keys. A "
                          "biological counterpart needs a slow variable that integrates many synapses' activity and "
                          "divides the cell's response by it.",
        "candidate_answers": "Astrocytes integrate synaptic activity over seconds and touch many synapses; inhibitory "
                             "interneurons perform divisive normalisation. Neither has been shown to divide by an "
                             "accumulated key sum.",
    },
)

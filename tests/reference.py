"""Plain-numpy twins of the C++ kernels: dense formulas and row loops, obviously right.

They are the oracles of the tests and the numpy side of the benchmarks.
"""
import numpy as np


def als_half_step(indptr, indices, ratings, Y, y_bias, mu, reg, bias_reg, weighted, prior=None,
                  block=1024):
    """Solve every row's ridge problem for [bias, factors] against rows [1, y_i].

    Row u minimises Σ_i (r_ui - mu - y_bias_i - b_u - x_u·y_i)² + bias_reg b_u²
    + lam_u ‖x_u‖², lam_u = reg * n_u**weighted (weighted: False/0 plain, True/1
    weighted-λ); with a prior, lam_u ‖x_u - prior_u‖² instead. Empty rows get a zero
    bias and factors equal to the prior (zeros without one).
    The systems of `block` rows at a time are solved in one batched call, so the
    temporaries stay a few MB at any size. Computes in Y's dtype. Returns (X, x_bias).
    """
    n_rows, k, dtype = len(indptr) - 1, Y.shape[1], Y.dtype
    solution = np.zeros((n_rows, k + 1), dtype)
    if prior is not None:
        solution[:, 1:] = prior
    A = np.empty((block, k + 1, k + 1), dtype)
    b = np.empty((block, k + 1), dtype)
    filled = np.flatnonzero(np.diff(indptr) > 0)
    for start in range(0, len(filled), block):
        rows = filled[start:start + block]
        for j, u in enumerate(rows):
            cols = indices[indptr[u]:indptr[u + 1]]
            Z = np.hstack([np.ones((len(cols), 1), dtype), Y[cols]])
            t = ratings[indptr[u]:indptr[u + 1]] - mu - y_bias[cols]
            lam = reg * float(len(cols)) ** weighted
            A[j] = Z.T @ Z + np.diag(np.r_[bias_reg, np.full(k, lam)])
            b[j] = Z.T @ t
            if prior is not None:
                b[j, 1:] += lam * prior[u]
        m = len(rows)
        solution[rows] = np.linalg.solve(A[:m], b[:m, :, None])[..., 0]
    return solution[:, 1:], solution[:, 0]


def predict(X, x_bias, Y, y_bias, mu, uidx, iidx, block=65536):
    """mu + b_u + b_i + x_u·y_i, where index -1 (an unknown id) contributes nothing; the
    dot products `block` pairs at a time (no pairs x k temporary at any size)."""
    u_ok, i_ok = uidx >= 0, iidx >= 0
    pred = np.full(len(uidx), mu, dtype=np.float64)
    pred[u_ok] += x_bias[uidx[u_ok]]
    pred[i_ok] += y_bias[iidx[i_ok]]
    both = np.flatnonzero(u_ok & i_ok)
    for lo in range(0, len(both), block):
        pairs = both[lo:lo + block]
        pred[pairs] += np.einsum("ij,ij->i", X[uidx[pairs]], Y[iidx[pairs]])
    return pred


def row_squared_errors(indptr, indices, ratings, X, x_bias, Y, y_bias, mu):
    """Σ over each row's ratings of the squared residual of the biased model."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    pred = predict(X, x_bias, Y, y_bias, mu, rows, indices.astype(np.int64))
    return np.bincount(rows, (ratings - pred) ** 2, minlength=len(indptr) - 1)


def row_squared_norms(A):
    """‖a‖² of every row of A, in float64."""
    A = np.asarray(A, dtype=np.float64)
    return np.einsum("ij,ij->i", A, A)


def exact_sum_digits(x):
    """The digit sums of exact_sum_digits: digits[d, e] = Σ ±digit_d(m) over the finite
    values of biased exponent e (1 for subnormals), m their 53-bit mantissa, by a bincount
    of each digit (float64 sums, exact for fewer than 2^35 values of one exponent)."""
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    exponent = (bits >> 52) & 0x7FF
    m = bits & ((1 << 52) - 1)
    m[exponent > 0] |= 1 << 52
    exponent[exponent == 0] = 1
    sign = np.where(bits < 0, -1.0, 1.0)
    digits = np.zeros((3, 2048), dtype=np.int64)
    for d in range(3):
        sums = np.bincount(exponent, weights=((m >> (18 * d)) & ((1 << 18) - 1)) * sign,
                           minlength=2048)
        digits[d] = sums.astype(np.int64)
    return digits


def coo_to_csr(rows, cols, data, n_rows):
    """(indptr, indices, data, input positions) by row, columns ascending, ties in input
    order: a stable sort of the entries by (row, column)."""
    order = np.lexsort((cols, rows))            # the last key is the primary one; stable
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))].astype(np.int64)
    return indptr, cols[order], data[order], order


def dense_ratings(uidx, iidx, ratings, shape):
    """The rating matrix with NaN for missing entries."""
    R = np.full(shape, np.nan)
    R[uidx, iidx] = ratings
    return R


def objective(R, X, x_bias, Y, y_bias, mu, reg, bias_reg, weighted):
    """The explicit training loss of docs/user_guide/explicit.md over the observed (non-NaN) entries of R."""
    observed = ~np.isnan(R)
    pred = mu + x_bias[:, None] + y_bias[None, :] + X @ Y.T
    sse = np.sum((R - pred)[observed] ** 2)
    w_u = observed.sum(axis=1).astype(float) ** weighted
    w_i = observed.sum(axis=0).astype(float) ** weighted
    penalty = reg * (w_u @ np.sum(X**2, axis=1) + w_i @ np.sum(Y**2, axis=1))
    return sse + penalty + bias_reg * (x_bias @ x_bias + y_bias @ y_bias)


def als_fit(data, factors, reg, bias_reg, weighted, iterations, init_std, seed):
    """Full biased ALS in numpy from the same seeded initialization as fastmf.ALS."""
    rng = np.random.default_rng(seed)
    Y = rng.normal(0.0, init_std, size=(data.n_items, factors))
    X = rng.normal(0.0, init_std, size=(data.n_users, factors))
    xb, yb = np.zeros(data.n_users), np.zeros(data.n_items)
    mu = float(np.mean(data.ratings))
    U, I = data.by_user, data.by_item
    for _ in range(iterations):
        X, xb = als_half_step(U.indptr, U.indices, U.data, Y, yb, mu, reg, bias_reg, weighted)
        Y, yb = als_half_step(I.indptr, I.indices, I.data, X, xb, mu, reg, bias_reg, weighted)
    return X, xb, Y, yb, mu


def sgd_epoch(block_ptr, block_order, uidx, iidx, ratings, X, x_bias, Y, y_bias, mu, lr, reg,
              bias_reg):
    """Replay one SGD epoch rating by rating, in the given block order, in float64.

    Returns updated copies (X, x_bias, Y, y_bias) and Σ e² (each e before its step).
    """
    X, x_bias, Y, y_bias = (np.array(a, dtype=np.float64) for a in (X, x_bias, Y, y_bias))
    sse = 0.0
    for block in block_order:
        for e in range(block_ptr[block], block_ptr[block + 1]):
            u, i = uidx[e], iidx[e]
            err = ratings[e] - (mu + x_bias[u] + y_bias[i] + X[u] @ Y[i])
            sse += err * err
            x_bias[u] += lr * (err - bias_reg * x_bias[u])
            y_bias[i] += lr * (err - bias_reg * y_bias[i])
            x_old = X[u].copy()
            X[u] += lr * (err * Y[i] - reg * X[u])
            Y[i] += lr * (err * x_old - reg * Y[i])
    return X, x_bias, Y, y_bias, sse


def implicit_row_reg(counts, n_other, reg, alpha0=1.0, exponent=0.0):
    """λ_u = λ (n_u + α0 N)^ν per row (Rendle et al. 2022's frequency-scaled λ), float64."""
    return reg * (np.asarray(counts, dtype=np.float64) + alpha0 * n_other) ** exponent


def _per_row(reg, n_rows):
    """A scalar λ, or one per row, as an array of n_rows."""
    return np.broadcast_to(np.asarray(reg, dtype=np.float64), (n_rows,))


def implicit_half_step(observed, conf, Y, reg, alpha0=1.0, prior=None):
    """iALS user step with the dense weight matrix: observed (bool, users x items) marks the
    pairs with preference 1, conf their c - 1; every unobserved pair weighs α0. Solves
    (Yᵀ W_u Y + λ_u I) x = Yᵀ W_u p(u) + λ_u prior_u, W_u = diag(c_ui observed, α0
    otherwise), row by row (``reg``: λ, or λ_u per row; ``prior``: None for 0); without a
    prior, users without observed items get 0."""
    X = np.zeros((observed.shape[0], Y.shape[1]))
    reg = _per_row(reg, observed.shape[0])
    for u in range(observed.shape[0]):
        if not observed[u].any() and prior is None:
            continue
        c = np.where(observed[u], 1.0 + conf[u], alpha0)
        p = observed[u].astype(float)
        A = Y.T @ (c[:, None] * Y) + reg[u] * np.eye(Y.shape[1])
        b = Y.T @ (c * p) + (0 if prior is None else reg[u] * prior[u])
        X[u] = np.linalg.solve(A, b)
    return X


def implicit_whole_objective_step(observed, conf, Y, reg, alpha0, prior):
    """The X minimising the whole implicit objective with Y fixed and rows shrunk toward
    ``prior``: Σ_{u,i} W_ui (p_ui - x_u·y_i)² + Σ_u λ_u ‖x_u - prior_u‖², as one weighted
    least-squares problem in all of vec(X) at once (np.linalg.lstsq on the stacked design
    matrix: a row per (u, i) pair and k rows of √λ_u I per user), float64."""
    n, k = observed.shape[0], Y.shape[1]
    reg = _per_row(reg, n)
    rows, targets = [], []
    for u in range(n):
        for i in range(Y.shape[0]):
            w = 1.0 + conf[u, i] if observed[u, i] else alpha0
            row = np.zeros(n * k)
            row[u * k:(u + 1) * k] = np.sqrt(w) * Y[i]
            rows.append(row)
            targets.append(np.sqrt(w) * float(observed[u, i]))
        ridge = np.zeros((k, n * k))
        ridge[:, u * k:(u + 1) * k] = np.sqrt(reg[u]) * np.eye(k)
        rows.extend(ridge)
        targets.extend(np.sqrt(reg[u]) * prior[u])
    solution = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)[0]
    return solution.reshape(n, k)


def feature_map_lstsq(A, Y, tau, feature_reg):
    """The feature map W minimising Σ_i τ_i ‖y_i - a_i W‖² + λ_f ‖W‖² by np.linalg.lstsq on
    the stacked problem [√τ A; √λ_f I] W = [√τ Y; 0] (A dense, float64)."""
    A = np.asarray(A, dtype=np.float64)
    root = np.sqrt(np.asarray(tau, dtype=np.float64))[:, None]
    design = np.vstack([root * A, np.sqrt(feature_reg) * np.eye(A.shape[1])])
    target = np.vstack([root * Y, np.zeros((A.shape[1], Y.shape[1]))])
    return np.linalg.lstsq(design, target, rcond=None)[0]


def implicit_loss(observed, conf, X, Y, reg, alpha0=1.0, exponent=0.0):
    """Σ over all pairs of c (p - x·y)² (c = 1 + conf observed, α0 otherwise) + Σ_u λ_u ‖x_u‖²
    + Σ_i λ_i ‖y_i‖², λ_u = λ (n_u + α0 n_items)^ν, λ_i = λ (n_i + α0 n_users)^ν; densely."""
    c = np.where(observed, 1.0 + conf, alpha0)
    reg_x = implicit_row_reg(observed.sum(axis=1), observed.shape[1], reg, alpha0, exponent)
    reg_y = implicit_row_reg(observed.sum(axis=0), observed.shape[0], reg, alpha0, exponent)
    return float(np.sum(c * (observed - X @ Y.T) ** 2) + reg_x @ np.sum(X**2, axis=1)
                 + reg_y @ np.sum(Y**2, axis=1))


def implicit_fit(observed, conf, Y, reg, iterations, alpha0=1.0, exponent=0.0):
    """An iALS fit by dense alternating solves from the item factors Y (the users are solved
    first): (X, Y) after ``iterations`` user-then-item steps, every row with its λ_u."""
    reg_x = implicit_row_reg(observed.sum(axis=1), observed.shape[1], reg, alpha0, exponent)
    reg_y = implicit_row_reg(observed.sum(axis=0), observed.shape[0], reg, alpha0, exponent)
    Y = np.array(Y, dtype=np.float64)
    for _ in range(iterations):
        X = implicit_half_step(observed, conf, Y, reg_x, alpha0)
        Y = implicit_half_step(observed.T, conf.T, X, reg_y, alpha0)
    return X, Y


def implicit_observed_loss(indptr, indices, conf, X, Y, alpha0=1.0, block=65536):
    """Per row, Σ_{i∈u} [(1 + conf)(1 - s)² - α0 s²] with s = x_u·y_i, in float64: what the
    observed pairs add to α0 Σ_u x_uᵀ(YᵀY)x_u in the full implicit loss. Vectorized over the
    nonzeros, `block` of them at a time."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    out = np.zeros(len(indptr) - 1)
    for lo in range(0, len(rows), block):
        r, cols = rows[lo:lo + block], indices[lo:lo + block]
        s = np.einsum("ij,ij->i", X[r].astype(np.float64), Y[cols].astype(np.float64))
        terms = (1.0 + conf[lo:lo + block].astype(np.float64)) * (1.0 - s) ** 2 - alpha0 * s**2
        out += np.bincount(r, weights=terms, minlength=len(out))
    return out


def topk(scores, exclude, n):
    """Indices and scores of the n best entries of each row (ties: lower index first),
    entries in `exclude` (a list of index lists) skipped; -1 / -inf padding. Full sort."""
    items = np.full((len(scores), n), -1)
    best = np.full((len(scores), n), -np.inf)
    for q, row in enumerate(scores):
        candidates = np.setdiff1d(np.arange(len(row)), exclude[q])
        ranked = candidates[np.lexsort((candidates, -row[candidates]))][:n]
        items[q, :len(ranked)], best[q, :len(ranked)] = ranked, row[ranked]
    return items, best


def topk_auc(scores, exclude, relevant, n):
    """The top n of each row as topk() gives it (`exclude` skipped), and each row's doubled
    Mann-Whitney U: over the entries j neither excluded nor relevant, Σ_j 2·#{relevant r:
    s_r > s_j} + #{relevant r: s_r == s_j}, counted relevant entry by relevant entry.
    `exclude` and `relevant` are lists of index lists."""
    items, best = topk(scores, exclude, n)
    wins = np.zeros(len(scores), dtype=np.int64)
    for q, row in enumerate(scores):
        others = row[np.setdiff1d(np.arange(len(row)), np.union1d(exclude[q], relevant[q]))]
        for r in relevant[q]:
            wins[q] += 2 * np.sum(row[r] > others) + np.sum(row[r] == others)
    return items, best, wins


def probe_wins(scores, exclude, probes):
    """Per row, Σ_j 2·#{p in probes: p > s_j} + #{p: p == s_j} over the entries j not in
    `exclude`: the count of topk_auc with probes, entry by entry."""
    wins = np.zeros(len(scores), dtype=np.int64)
    for q, row in enumerate(scores):
        kept = row[np.setdiff1d(np.arange(len(row)), exclude[q])]
        for p in probes[q]:
            wins[q] += 2 * np.sum(p > kept) + np.sum(p == kept)
    return wins


def implicit_half_step_sparse(indptr, indices, conf, Y, reg, alpha0=1.0, block=1024):
    """The same solve with the YᵀY trick: (α0 YᵀY + λ_u I + Σ_i (1 + conf - α0) y_i y_iᵀ) x =
    Σ_i (1 + conf) y_i per row (``reg``: λ, or λ_u per row), the systems of `block` rows at
    a time solved in one batched call (temporaries of a few MB at any size); computes in
    Y's dtype. Rows without items get 0."""
    n_rows, k, dtype = len(indptr) - 1, Y.shape[1], Y.dtype
    G = alpha0 * (Y.T @ Y)
    reg = _per_row(reg, n_rows)
    X = np.zeros((n_rows, k), dtype)
    A = np.empty((block, k, k), dtype)
    b = np.empty((block, k), dtype)
    filled = np.flatnonzero(np.diff(indptr) > 0)
    for start in range(0, len(filled), block):
        rows = filled[start:start + block]
        for j, u in enumerate(rows):
            cols, c = indices[indptr[u]:indptr[u + 1]], conf[indptr[u]:indptr[u + 1]]
            Yu = Y[cols]
            np.add(G, (Yu.T * (1 + c - alpha0)) @ Yu, out=A[j])
            A[j].flat[::k + 1] += reg[u]
            b[j] = (1 + c) @ Yu
        m = len(rows)
        X[rows] = np.linalg.solve(A[:m], b[:m, :, None])[..., 0]
    return X


def implicit_cg_step(indptr, indices, conf, Y, reg, X, steps, alpha0=1.0, block=4096,
                     prior=None):
    """`steps` conjugate-gradient iterations per row on the same system, from X, in Y's
    dtype: every row of a block of `block` rows at once, the product with the system
    matrix, A v = (α0 YᵀY + λ_u I) v + Yᵀ (w ∘ Y v) per row with w = 1 + c - α0, by sparse
    products over the block's nonzeros; a row stops when its residual is 0. ``reg``: λ,
    or λ_u per row; ``prior`` adds λ_u prior_u to the right-hand side (None: 0). Without a
    prior, rows without items get 0."""
    import scipy.sparse as sp

    dtype = Y.dtype
    X = np.array(X, dtype=dtype)
    G = (alpha0 * (Y.T @ Y)).astype(dtype)
    reg = _per_row(reg, len(indptr) - 1).astype(dtype)
    for lo in range(0, len(indptr) - 1, block):
        hi = min(lo + block, len(indptr) - 1)
        start, stop = indptr[lo], indptr[hi]
        local = np.repeat(np.arange(hi - lo), np.diff(indptr[lo:hi + 1]))
        cols, c = indices[start:stop], conf[start:stop].astype(dtype)
        w = (1 + c - alpha0).astype(dtype)
        shape = (hi - lo, len(Y))
        ptr = indptr[lo:hi + 1] - start
        lam = reg[lo:hi, None]

        def matvec(V):
            s = np.einsum("ij,ij->i", V[local], Y[cols])
            return V @ G + lam * V + sp.csr_matrix((w * s, cols, ptr), shape=shape) @ Y

        x = X[lo:hi]
        r = sp.csr_matrix((1 + c, cols, ptr), shape=shape) @ Y - matvec(x)
        if prior is not None:
            r += lam * np.asarray(prior[lo:hi], dtype=dtype)
        p, rs = r.copy(), np.einsum("ij,ij->i", r, r)
        for _ in range(steps):
            active = rs > 0
            if not active.any():
                break
            Ap = matvec(p)
            pAp = np.einsum("ij,ij->i", p, Ap)
            step = np.where(active, rs / np.where(active, pAp, 1), 0).astype(dtype)
            x += step[:, None] * p
            r -= step[:, None] * Ap
            rs_new = np.einsum("ij,ij->i", r, r)
            p = r + (np.where(active, rs_new / np.where(active, rs, 1), 0).astype(dtype)[:, None]
                     * p)
            rs = np.where(active, rs_new, rs)
        if prior is None:
            x[np.diff(indptr[lo:hi + 1]) == 0] = 0
        X[lo:hi] = x
    return X


def implicit_block_step(indptr, indices, values, alpha, base, Y, G, reg, X, block_size):
    """One iALS++ sweep per row from X, in Y's dtype: with A = G + reg[u] I + Σ_i w_i y_i y_iᵀ
    (w = base + alpha v) and b = Σ_i (1 + alpha v) y_i formed densely, each block B of
    `block_size` coordinates in turn gets x_B += A_BB⁻¹ (b - A x)_B. Empty rows get 0."""
    X = np.array(X, dtype=Y.dtype)
    k = Y.shape[1]
    for u in range(len(indptr) - 1):
        cols, v = indices[indptr[u]:indptr[u + 1]], values[indptr[u]:indptr[u + 1]]
        if len(cols) == 0:
            X[u] = 0
            continue
        Yu = Y[cols]
        A = G + reg[u] * np.eye(k) + (Yu.T * (base + alpha * v)) @ Yu
        b = (1 + alpha * v) @ Yu
        for lo in range(0, k, block_size):
            B = slice(lo, lo + block_size)
            X[u, B] += np.linalg.solve(A[B, B], b[B] - A[B] @ X[u])
    return X


def implicit_block_step_batched(indptr, indices, values, alpha, base, Y, G, reg, X, block_size,
                                rows_at_once=1024):
    """implicit_block_step as a benchmark baseline: the systems of `rows_at_once` rows formed
    at a time, and each coordinate block solved for all of them in one batched call."""
    n_rows, k = len(indptr) - 1, Y.shape[1]
    X = np.array(X, dtype=Y.dtype)
    X[np.diff(indptr) == 0] = 0
    A = np.empty((rows_at_once, k, k), Y.dtype)
    b = np.empty((rows_at_once, k), Y.dtype)
    filled = np.flatnonzero(np.diff(indptr) > 0)
    for start in range(0, len(filled), rows_at_once):
        rows = filled[start:start + rows_at_once]
        m = len(rows)
        for j, u in enumerate(rows):
            cols, v = indices[indptr[u]:indptr[u + 1]], values[indptr[u]:indptr[u + 1]]
            Yu = Y[cols]
            np.add(G, (Yu.T * (base + alpha * v)) @ Yu, out=A[j])
            A[j].flat[::k + 1] += reg[u]
            b[j] = (1 + alpha * v) @ Yu
        x = X[rows]
        for lo in range(0, k, block_size):
            B = slice(lo, lo + block_size)
            r = b[:m, B] - np.einsum("rbk,rk->rb", A[:m, B, :], x)
            x[:, B] += np.linalg.solve(A[:m, B, B], r[..., None])[..., 0]
        X[rows] = x
    return X


def implicit_row_losses(observed, conf, X, Y, reg, unobserved_weight):
    """Per row u, Σ_i c_ui (p_ui - x_u·y_i)² + reg[u] ‖x_u‖² over all items, densely, with
    c = 1 + conf on observed pairs and unobserved_weight elsewhere."""
    c = np.where(observed, 1.0 + conf, unobserved_weight)
    return np.sum(c * (observed - X @ Y.T) ** 2, axis=1) + reg * np.sum(X**2, axis=1)


def implicit_exact_rows(observed, conf, Y, reg, unobserved_weight):
    """The minimizer of each row's implicit_row_losses (every row has a positive definite
    system), by a dense solve per row."""
    c = np.where(observed, 1.0 + conf, unobserved_weight)
    X = np.zeros((observed.shape[0], Y.shape[1]))
    for u in range(observed.shape[0]):
        A = Y.T @ (c[u][:, None] * Y) + reg[u] * np.eye(Y.shape[1])
        X[u] = np.linalg.solve(A, Y.T @ (c[u] * observed[u]))
    return X


def feature_update(A, Y, tau, feature_reg, sweeps=500):
    """The feature vectors E of "ALS with features" by coordinate descent: each e_f in turn
    minimises Σ_i τ_i ‖y_i - Σ_g a_ig e_g‖² + λ_f ‖e_f‖² with the others fixed,
        e_f = Σ_i τ_i a_if (y_i - Σ_{g≠f} a_ig e_g) / (Σ_i τ_i a_if² + λ_f),
    swept until converged. A is dense (items x features)."""
    E = np.zeros((A.shape[1], Y.shape[1]))
    for _ in range(sweeps):
        for f in range(A.shape[1]):
            a = A[:, f]
            rest = A @ E - np.outer(a, E[f])
            E[f] = (tau * a) @ (Y - rest) / ((tau * a) @ a + feature_reg)
    return E


# -- BPR: the counter-based sampler of cpp/rng.hpp and cpp/bpr.hpp, and the steps ---------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
BPR_NEGATIVE_TRIES = 32


def mix64(z):
    """splitmix64's output function on uint64 values (arithmetic modulo 2^64)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):            # wrapping is the point
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_value(seed, n):
    """The n-th values (from 0) of the splitmix64 stream of `seed`: mix64(seed + (n+1)·γ)."""
    n = np.asarray(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(np.uint64(seed) + (n + np.uint64(1)) * _GOLDEN)


def below(x, n):
    """floor(x · n / 2^64) for uint64 x and n < 2^32, from 32-bit halves (no overflow)."""
    x, n = np.asarray(x, dtype=np.uint64), np.uint64(n)
    high = (x >> np.uint64(32)) * n
    low = ((x & np.uint64(0xFFFFFFFF)) * n) >> np.uint64(32)
    return ((high + low) >> np.uint64(32)).astype(np.int64)


def sgd_block_layout(indptr, indices, ratings, user_block, item_block, side, seed):
    """SGD's block layout: the ratings stably sorted by block user_block[u]·side +
    item_block[i], then each block shuffled by Fisher-Yates from its end, draw j swapping
    entries j and below(stream_value(stream_value(seed, b), j), j + 1)."""
    uidx = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
    block = user_block[uidx].astype(np.int64) * side + item_block[indices]
    order = np.argsort(block, kind="stable")
    laid_out = [uidx[order], indices[order], ratings[order]]
    counts = np.bincount(block, minlength=side * side)
    block_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for b in np.flatnonzero(counts > 1):
        lo, block_seed = block_ptr[b], stream_value(seed, b)
        for j in range(counts[b] - 1, 0, -1):
            pick = int(below(stream_value(block_seed, j), j + 1))
            for column in laid_out:
                column[[lo + j, lo + pick]] = column[[lo + pick, lo + j]]
    return (block_ptr, *laid_out)


def bpr_draws(indptr, indices, user_of, cdf, n_items, seed, samples, first=0,
              tries=BPR_NEGATIVE_TRIES):
    """The (u, i, j) triples of samples first .. first + samples - 1 of a BPR epoch, j = -1
    when the first ``tries`` candidates were all observed by u. Sample s takes value
    s·(1 + BPR_NEGATIVE_TRIES) of the stream for a uniform entry of the positives CSR, and
    the next ones for candidates: uniform items, or the first index with cdf > U·cdf[-1]
    (U in [0, 1)). Observed pairs are looked up in a dense boolean matrix."""
    per_sample = np.uint64(1 + BPR_NEGATIVE_TRIES)
    s = np.arange(first, first + samples, dtype=np.uint64)
    entry = below(stream_value(seed, s * per_sample), len(indices))
    u, i = user_of[entry].astype(np.int64), indices[entry].astype(np.int64)
    observed = np.zeros((len(indptr) - 1, n_items), dtype=bool)
    observed[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr)), indices] = True
    j = np.full(samples, -1, dtype=np.int64)
    pending = np.arange(samples)                    # samples still without a negative
    for t in range(tries):
        x = stream_value(seed, s[pending] * per_sample + np.uint64(1 + t))
        if len(cdf) == 0:
            candidate = below(x, n_items)
        else:
            target = (x >> np.uint64(11)).astype(np.float64) * 2.0**-53 * cdf[-1]
            candidate = np.searchsorted(cdf[:-1], target, side="right")
        free = ~observed[u[pending], candidate]
        j[pending[free]] = candidate[free]
        pending = pending[~free]
    return u, i, j


def bpr_steps(u, i, j, X, Y, y_bias, lr, reg):
    """Replay BPR steps on the triples in order, in float64 (y_bias empty: no biases).

    For each (u, i, j) with j >= 0: x = p·(q_i - q_j) + b_i - b_j, g = 1 / (1 + e^x);
    p += lr (g (q_i - q_j) - reg p), q_i += lr (g p - reg q_i), q_j += lr (-g p - reg q_j),
    b_i += lr (g - reg b_i), b_j += lr (-g - reg b_j), all from the values before the step.
    Returns the updated copies (X, Y, y_bias) and (objective, ordered, used): Σ of
    ln(1 + e^-x) + reg/2 (‖p‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²) before each step,
    the number of x > 0, and the number of steps.
    """
    X, Y, b = (np.array(a, dtype=np.float64) for a in (X, Y, y_bias))
    biased = len(b) > 0
    objective, ordered, used = 0.0, 0, 0
    for uu, ii, jj in zip(u, i, j):
        if jj < 0:
            continue
        p, qi, qj = X[uu].copy(), Y[ii].copy(), Y[jj].copy()
        bi, bj = (b[ii], b[jj]) if biased else (0.0, 0.0)
        x = p @ (qi - qj) + bi - bj
        norms = p @ p + qi @ qi + qj @ qj + bi * bi + bj * bj
        objective += np.logaddexp(0.0, -x) + 0.5 * reg * norms
        ordered += int(x > 0)
        used += 1
        g = 1.0 / (1.0 + np.exp(x))
        X[uu] = p + lr * (g * (qi - qj) - reg * p)
        Y[ii] = qi + lr * (g * p - reg * qi)
        Y[jj] = qj + lr * (-g * p - reg * qj)
        if biased:
            b[ii] = bi + lr * (g - reg * bi)
            b[jj] = bj + lr * (-g - reg * bj)
    return X, Y, b, (objective, ordered, used)


def bpr_feature_steps(u, i, j, users, items, lr, reg, feature_reg, batch=32):
    """Replay BPR steps with side features (LightFM's formulation) on the triples in order,
    in float64. ``users`` and ``items`` are (A, E, bias, n_own): A a dense rows × embeddings
    weight matrix, E the embeddings, bias their biases (empty: none; the users' is empty),
    columns < n_own regularized by ``reg``, the others by ``feature_reg``.

    Per triple with j >= 0: p = A_u E, q = A_i F, x = p·(q_i - q_j) + A_i c - A_j c,
    g = 1 / (1 + e^x); then, in turn for u, i and j, every embedding e of the row moves by
    lr (A_re d - reg_e E_e) (d = g (q_i - q_j), g p and -g p), a bias by
    lr (A_re (±g) - reg_e c_e): an own embedding (e < n_own) at once, a feature's at the
    end of each ``batch`` triples (its step computed from the values at the step). The
    objective adds ln(1 + e^-x) and reg_e/2 (‖E_e‖² + c_e²) for every embedding of each of
    the three rows, before the step.
    Returns the updated (E_users, E_items, c_items) and (objective, ordered, used).
    """
    m = _FeatureModel(users, items, reg, feature_reg)
    objective, ordered, used = 0.0, 0, 0
    for s, (uu, ii, jj) in enumerate(zip(u, i, j)):
        if s % batch == 0:
            m.flush()
        if jj < 0:
            continue
        p, qi, qj = m.row("user", uu), m.row("item", ii), m.row("item", jj)
        x = p @ (qi - qj) + m.bias(ii) - m.bias(jj)
        objective += np.logaddexp(0.0, -x) + m.penalty(uu, ii) + m.penalty(None, jj)
        ordered += int(x > 0)
        used += 1
        g = 1.0 / (1.0 + np.exp(x))
        m.update(uu, ii, jj, p, qi, qj, g, lr)
    m.flush()
    return m.U, m.V, m.c, (objective, ordered, used)


class _FeatureModel:
    """The embeddings of both sides of BPR with features, dense and float64, and the moves of
    a step (bpr_feature_steps)."""

    def __init__(self, users, items, reg, feature_reg):
        (Au, U, _, u_own), (Ai, V, c, i_own) = users, items
        self.A = {"user": np.asarray(Au, np.float64), "item": np.asarray(Ai, np.float64)}
        self.U, self.V, self.c = (np.array(a, dtype=np.float64) for a in (U, V, c))
        self.E = {"user": self.U, "item": self.V}
        self.own = {"user": u_own, "item": i_own}
        self.held = {"user": np.zeros_like(self.U), "item": np.zeros_like(self.V),
                     "bias": np.zeros_like(self.c)}
        self.regs = {"user": np.where(np.arange(len(U)) < u_own, reg, feature_reg),
                     "item": np.where(np.arange(len(V)) < i_own, reg, feature_reg)}

    def row(self, side, r):
        return self.A[side][r] @ self.E[side]

    def bias(self, r):
        return self.A["item"][r] @ self.c if len(self.c) else 0.0

    def penalty(self, u, i):
        """reg_e/2 (‖E_e‖² + c_e²) over the embeddings of user u (None: none) and item i."""
        total = 0.0
        for side, r in (("user", u), ("item", i)):
            if r is None:
                continue
            on = self.A[side][r] != 0
            sq = (self.E[side][on] ** 2).sum(axis=1)
            if side == "item" and len(self.c):
                sq = sq + self.c[on] ** 2
            total += 0.5 * (self.regs[side][on] * sq).sum()
        return total

    def update(self, u, i, j, p, qi, qj, g, lr):
        for side, r, d, gb in (("user", u, g * (qi - qj), 0.0), ("item", i, g * p, g),
                               ("item", j, -g * p, -g)):
            a, E, regs = self.A[side][r], self.E[side], self.regs[side]
            biased = side == "item" and len(self.c)
            for e in np.flatnonzero(a):
                step = lr * (a[e] * d - regs[e] * E[e])
                bias_step = lr * (a[e] * gb - regs[e] * self.c[e]) if biased else 0.0
                if e < self.own[side]:
                    E[e] += step
                    if biased:
                        self.c[e] += bias_step
                else:
                    self.held[side][e] += step
                    if biased:
                        self.held["bias"][e] += bias_step

    def flush(self):
        """Add the feature embeddings' held steps."""
        for side in ("user", "item"):
            self.E[side] += self.held[side]
            self.held[side][:] = 0.0
        self.c += self.held["bias"]
        self.held["bias"][:] = 0.0


def bpr_user_objective(p, positives, Y, b, weights, reg):
    """BPR's expected objective of one user, pair by pair: the mean over the positives i
    of the weighted mean over the negatives j of -ln σ(p·(q_i - q_j) + b_i - b_j), plus
    λ/2 ‖p‖²."""
    negatives = [j for j in range(len(Y)) if j not in set(positives) and weights[j] > 0]
    w = np.array([weights[j] for j in negatives]) / sum(weights[j] for j in negatives)
    total = 0.0
    for i in positives:
        for j, wj in zip(negatives, w):
            x = p @ (Y[i] - Y[j]) + b[i] - b[j]
            total += wj * np.log1p(np.exp(-x))
    return total / len(positives) + 0.5 * reg * (p @ p)


def bpr_item_objective(q, c, users, X, Y, b, seen, weights, own_weight, reg, skip=False):
    """The terms of BPR's expected objective that hold a new item (q, c), pair by pair:
    ranked above each negative j of each of its users u (weight w_j / W_u), and, as a
    negative of weight own_weight / W_u, below each positive i of every other user; λ/2
    ‖(q, c)‖² for each sample that touches it. seen[u] is user u's positive items.

    skip: a sample draws j among all items (the new one included, of weight own_weight,
    total W_all) and is taken only when u has not seen j; each W_u above becomes W_all, and
    a sample of one of the item's users counts W_u / W_all times."""
    W_all = sum(weights) + own_weight
    value, samples = 0.0, 0.0
    for u in range(len(X)):
        rest = [j for j in range(len(Y)) if j not in seen[u]]
        W = sum(weights[j] for j in rest)
        if u in users:
            samples += W / W_all if skip else 1.0
            for j in rest:
                x = X[u] @ (q - Y[j]) + c - b[j]
                value += weights[j] / (W_all if skip else W) * np.log1p(np.exp(-x))
        else:
            for i in seen[u]:
                weight = own_weight / (W_all if skip else W)
                samples += weight
                x = X[u] @ (Y[i] - q) + b[i] - c
                value += weight * np.log1p(np.exp(-x))
    return value / samples + 0.5 * reg * (q @ q + c * c)


def top_n(scores, valid, n):
    """Indices and scores of the n best valid entries of each row, ties: lower index first
    (a stable sort of all of them); -1 / -inf padding to min(n, row length) columns."""
    width = min(n, scores.shape[1])
    items = np.full((len(scores), width), -1)
    best = np.full((len(scores), width), -np.inf)
    for q in range(len(scores)):
        candidates = np.flatnonzero(valid[q])
        ranked = candidates[np.argsort(-scores[q, candidates], kind="stable")][:width]
        items[q, :len(ranked)], best[q, :len(ranked)] = ranked, scores[q, ranked]
    return items, best

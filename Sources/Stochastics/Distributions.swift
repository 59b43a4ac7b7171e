import CGSL

/// Quantiles of distributions GSL provides, for confidence intervals (sample quantiles: `Statistics.quantile` in Analysis).
public enum Quantiles {
    /// The p-quantile of Student's t with `degreesOfFreedom` (`gsl_cdf_tdist_Pinv`).
    public static func studentT(_ p: Double, degreesOfFreedom: Double) -> Double {
        precondition(p > 0 && p < 1, "p must be in (0, 1), but is \(p).")
        precondition(degreesOfFreedom > 0, "degrees of freedom must be > 0, but is \(degreesOfFreedom).")
        return gsl_cdf_tdist_Pinv(p, degreesOfFreedom)
    }

    /// The p-quantile of Beta(a, b): `gsl_cdf_beta_Pinv`, or, where its Newton
    /// iteration fails to converge (very large or very unequal a and b), bisection
    /// on `gsl_cdf_beta_P` to 1e-14, which cannot fail on a monotone CDF.
    public static func beta(_ p: Double, _ a: Double, _ b: Double) -> Double {
        precondition(p >= 0 && p <= 1 && a > 0 && b > 0, "beta quantile needs p in [0, 1] and a, b > 0, but got \(p), \(a), \(b).")
        GSLErrors.install()
        GSLErrors.reset()
        let x = gsl_cdf_beta_Pinv(p, a, b)
        if (try? GSLErrors.check()) != nil, x.isFinite { return x }
        var lo = 0.0, hi = 1.0
        for _ in 0..<200 where hi - lo > 1e-14 {
            let mid = (lo + hi) / 2
            if gsl_cdf_beta_P(mid, a, b) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// The p-quantile of the standard normal distribution (`gsl_cdf_ugaussian_Pinv`).
    public static func standardNormal(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "p must be in (0, 1), but is \(p).")
        return gsl_cdf_ugaussian_Pinv(p)
    }

    /// Upper-tail probability of a chi-square variate (`gsl_cdf_chisq_Q`).
    public static func chiSquareUpperTail(_ x: Double, degreesOfFreedom: Double) -> Double {
        precondition(degreesOfFreedom > 0, "degrees of freedom must be > 0, but is \(degreesOfFreedom).")
        return gsl_cdf_chisq_Q(x, degreesOfFreedom)
    }
}

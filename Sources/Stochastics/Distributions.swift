import CGSL

/// Quantiles GSL provides, for confidence intervals.
public enum Quantiles {
    /// The p-quantile of Student's t with `degreesOfFreedom` (`gsl_cdf_tdist_Pinv`).
    public static func studentT(_ p: Double, degreesOfFreedom: Double) -> Double {
        precondition(p > 0 && p < 1, "p must be in (0, 1), but is \(p).")
        precondition(degreesOfFreedom > 0, "degrees of freedom must be > 0, but is \(degreesOfFreedom).")
        return gsl_cdf_tdist_Pinv(p, degreesOfFreedom)
    }

    /// Upper-tail probability of a chi-square variate (`gsl_cdf_chisq_Q`).
    public static func chiSquareUpperTail(_ x: Double, degreesOfFreedom: Double) -> Double {
        precondition(degreesOfFreedom > 0, "degrees of freedom must be > 0, but is \(degreesOfFreedom).")
        return gsl_cdf_chisq_Q(x, degreesOfFreedom)
    }
}

import Foundation
import Model

extension RatePrior {
    /// sdLog of the weakly informative default: the 95 % prior range is the centre ×/÷ e^{1.96·1.5} ≈ 19.
    public static let weaklyInformativeSDLog = 1.5
    /// Centre of the default prior for a move the scenario leaves at 0 (or does not know), per year.
    public static let unknownMoveMedianPerYear = 0.05
    /// Smallest centre of the default prior, per year.
    public static let smallestDefaultMedianPerYear = 0.01

    /// The prior of a free rate whose `stocks.free` entry gives only its path:
    ///
    /// ```
    /// log θ ~ N(log m, 1.5²),   m = max(scenario value, 0.01) per year, or 0.05 when the scenario has 0 or none
    /// ```
    ///
    /// Weakly informative in the sense of Gelman et al. (2008, *Ann. Appl. Stat.*
    /// 2:1360–1383; Gelman, Simpson & Betancourt 2017, *Entropy* 19:555): its 95 %
    /// range, m/19 to m·19 (for m = 0.1: 0.0053 to 1.9 per year, from one move in
    /// two centuries of child-years to one every six months), holds every yearly rate
    /// the national statistics imply (0.003 starts per child-year of the whole
    /// population to 1.5 deregistrations per child-year on the register), while
    /// keeping the sampler away from rates no child-protection system has (100 a
    /// year, or 10⁻⁶) along the ridges stocks alone leave flat. It is centred on the
    /// analyst's scenario, so it regularises towards the current assumption, not
    /// towards an arbitrary number.
    public static func weaklyInformative(scenarioValue: Double?) -> RatePrior {
        guard let v = scenarioValue, v > 0, v.isFinite else {
            return .logNormal(median: unknownMoveMedianPerYear, sdLog: weaklyInformativeSDLog)
        }
        return .logNormal(median: max(v, smallestDefaultMedianPerYear), sdLog: weaklyInformativeSDLog)
    }

    /// The priors of a configuration's free rates (`stocks.free`, in its order): the given
    /// log-normal (stated, or from a national priors file; a median without sdLog gets sdLog 1.5),
    /// else the weakly informative default at the scenario's value (`baseValues`, in the same
    /// order), with the entry's sdLog when only that is given.
    public static func resolve(_ priors: [CalibrationConfig.RatePrior], baseValues: [Double]?) -> [RatePrior] {
        priors.enumerated().map { k, p in
            if let median = p.median { return .logNormal(median: median, sdLog: p.sdLog ?? weaklyInformativeSDLog) }
            let base = baseValues.flatMap { $0.indices.contains(k) ? $0[k] : nil }
            let standard = weaklyInformative(scenarioValue: base)
            guard let sd = p.sdLog, case let .logNormal(median, _) = standard else { return standard }
            return .logNormal(median: median, sdLog: sd)
        }
    }
}

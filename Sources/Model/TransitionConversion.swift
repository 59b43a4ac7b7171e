/// How a scenario states its baseline transition matrix.
public enum TransitionUnit: String, Sendable, CaseIterable {
    /// Probabilities of moving from→to within one step; rows sum to 1.
    case probabilitiesPerStep
    /// Probabilities of being in `to` one year after being in `from`; rows sum to 1.
    case probabilitiesPerYear
    /// A generator Q of yearly rates: off-diagonal ≥ 0, rows sum to 0.
    case ratesPerYear
}

/// Conversion of a baseline matrix to per-step probabilities.
///
/// - rates:  P = exp(Q·dt), dt in years (Jones, Epstein & García-Mochón 2017,
///   "A procedure for deriving formulas to convert transition rates to
///   probabilities for multistate Markov models", Med Decis Making 37(7):779–789).
/// - yearly probabilities, whole years per step: P = A^dt by repeated multiplication.
/// - yearly probabilities, otherwise: P = A^dt = exp(dt · log A) with the principal
///   logarithm. A yearly matrix need not have a valid root: the embedding
///   problem (Kingman 1962; Israel, Rosenthal & Wei 2001, Math Finance 11(2)).
///   When the principal root has an entry below −1e-12 or does not exist, the
///   conversion fails and says which entry; entries in [−1e-12, 0) are set to
///   0 and the row renormalised.
public enum TransitionConversion {
    public enum Failure: Error, Equatable {
        /// The principal logarithm does not exist (e.g. a negative eigenvalue).
        case noRealRoot
        /// The root exists but has a negative entry at (from, to).
        case negativeEntry(from: Int, to: Int, value: Double)
    }

    public static func perStep(_ matrix: [[Double]], unit: TransitionUnit, stepYears dt: Double)
        -> Result<[[Double]], Failure>
    {
        let p: [[Double]]
        switch unit {
        case .probabilitiesPerStep:
            return .success(matrix)
        case .ratesPerYear:
            p = MatrixFunctions.exp(MatrixFunctions.scale(matrix, dt))
        case .probabilitiesPerYear where dt == dt.rounded() && dt >= 1:
            p = (1..<Int(dt)).reduce(matrix) { acc, _ in MatrixFunctions.multiply(acc, matrix) }
        case .probabilitiesPerYear:
            guard let root = MatrixFunctions.power(matrix, dt) else { return .failure(.noRealRoot) }
            p = root
        }
        var cleaned = p
        for i in cleaned.indices {
            for j in cleaned[i].indices where cleaned[i][j] < 0 {
                if cleaned[i][j] < -1e-12 { return .failure(.negativeEntry(from: i, to: j, value: cleaned[i][j])) }
                cleaned[i][j] = 0
            }
            let sum = cleaned[i].reduce(0, +)
            cleaned[i] = cleaned[i].map { $0 / sum }
        }
        return .success(cleaned)
    }
}

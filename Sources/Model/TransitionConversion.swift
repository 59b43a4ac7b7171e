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
            return perStep(rates: matrix, stepYears: dt)
        case .probabilitiesPerYear where dt == dt.rounded() && dt >= 1:
            p = (1..<Int(dt)).reduce(matrix) { acc, _ in MatrixFunctions.multiply(acc, matrix) }
        case .probabilitiesPerYear:
            guard let root = MatrixFunctions.power(matrix, dt) else { return .failure(.noRealRoot) }
            p = root
        }
        return cleaned(p)
    }

    /// P = exp(Q·dt) from a generator Q of yearly rates, cleaned as every conversion is; for
    /// any `RealScalar`, so `Dual` entries of Q give dP/du exactly (the one implementation
    /// `perStep(_:unit:stepYears:)` uses for rates).
    @inlinable public static func perStep<T: RealScalar>(rates q: [[T]], stepYears dt: Double) -> Result<[[T]], Failure> {
        let step = T(dt)
        return cleaned(MatrixFunctions.exp(generic: q.map { $0.map { $0 * step } }))
    }

    /// `perStep(rates:stepYears:)` in numbers, keeping what its reverse-mode derivative needs
    /// (`RatesStepPullback.ratesAdjoint(_:)`); `step` is the same matrix, bit for bit.
    public static func perStepWithPullback(rates q: [[Double]], stepYears dt: Double) -> Result<RatesStepPullback, Failure> {
        let a = q.map { $0.map { $0 * dt } }
        let raw = MatrixFunctions.exp(generic: a)
        switch cleaned(raw) {
        case .failure(let f): return .failure(f)
        case .success(let p): return .success(RatesStepPullback(step: p, exponent: a, raw: raw, stepYears: dt))
        }
    }

    /// Entries in [−1e-12, 0) set to 0 and each row divided by its sum; an entry below −1e-12 fails.
    @inlinable static func cleaned<T: RealScalar>(_ p: [[T]]) -> Result<[[T]], Failure> {
        var cleaned = p
        for i in cleaned.indices {
            for j in cleaned[i].indices where cleaned[i][j].value < 0 {
                if cleaned[i][j].value < -1e-12 { return .failure(.negativeEntry(from: i, to: j, value: cleaned[i][j].value)) }
                cleaned[i][j] = T(0)
            }
            let sum = cleaned[i].dropFirst().reduce(cleaned[i][0]) { $0 + $1 }
            cleaned[i] = cleaned[i].map { $0 / sum }
        }
        return .success(cleaned)
    }
}

/// A baseline transition matrix as the scenario states it: its unit and the
/// entries written, before the implied diagonals and the conversion to a step.
///
/// The decoder and `ArmModel.applying(_:)` both complete and convert it
/// here, so a value set by a parameter is checked and converted exactly as
/// the same value written in the file.
public struct TransitionMatrixInput: Sendable, Equatable {
    public var unit: TransitionUnit
    /// Entries as written, [from][to]; nil where the file leaves them out.
    public var written: [[Double?]]
    /// Per level: absorbing (no moves out).
    public var absorbing: [Bool]

    public init(unit: TransitionUnit, written: [[Double?]], absorbing: [Bool]) {
        self.unit = unit
        self.written = written
        self.absorbing = absorbing
    }

    /// A problem with one row: what was found and what was expected.
    public struct RowProblem: Error, Sendable, Equatable {
        public var row: Int
        public var found: String
        public var expected: String
    }

    /// The range an entry must lie in: a yearly rate (the diagonal in
    /// [−250000, 0]) or a probability in [0, 1].
    static func range(unit: TransitionUnit, diagonal: Bool) -> NumberRange {
        unit == .ratesPerYear ? (diagonal ? NumberRange(low: -250_000, high: 0) : .ratePerYear) : .unit
    }

    /// The completed matrix in its unit: an omitted diagonal is the row's
    /// target (1 for probabilities, 0 for rates) minus the moves out; a
    /// written one must make the row sum to the target within 1e-9. A row
    /// all left out of an absorbing level stays put.
    public func completed(levels: [Level]) -> (matrix: [[Double]], problems: [RowProblem]) {
        let n = written.count
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var problems: [RowProblem] = []
        let target = unit == .ratesPerYear ? 0.0 : 1.0
        for i in 0..<n {
            for j in 0..<n { matrix[i][j] = written[i][j] ?? 0 }
            let diagonalGiven = written[i][i] != nil
            // The moves out, summed in level order.
            var off = 0.0
            for j in 0..<n where j != i { off += matrix[i][j] }
            if absorbing[i] && off > 0 {
                problems.append(RowProblem(row: i, found: "moves out of absorbing level '\(levels[i].name)'", expected: "no moves out of an absorbing level"))
                continue
            }
            if diagonalGiven {
                let sum = matrix[i].reduce(0, +)
                if abs(sum - target) > 1e-9 {
                    problems.append(RowProblem(row: i, found: "a row summing to \(sum)",
                        expected: "a row summing to \(IssueLog.format(target)) (within 1e-9)\(unit == .ratesPerYear ? " for yearly rates" : "")"))
                }
            } else {
                matrix[i][i] = target - off
                if unit != .ratesPerYear && matrix[i][i] < -1e-9 {
                    problems.append(RowProblem(row: i, found: "moves out summing to \(off)",
                                               expected: "moves out summing to at most 1, leaving a stay probability >= 0"))
                }
                matrix[i][i] = max(matrix[i][i], unit == .ratesPerYear ? -Double.infinity : 0)
            }
        }
        return (matrix, problems)
    }

    /// The per-step matrix of the completed matrix (`TransitionConversion.perStep`), or what is wrong with it.
    public static func perStep(_ matrix: [[Double]], unit: TransitionUnit, stepMonths: Int, levels: [Level])
        -> Result<[[Double]], RowProblem> {
        switch TransitionConversion.perStep(matrix, unit: unit, stepYears: Double(stepMonths) / 12) {
        case .success(let p): return .success(p)
        case .failure(.noRealRoot):
            return .failure(RowProblem(row: -1, found: "a yearly matrix with no real principal \(stepMonths)-month root",
                expected: "a yearly probability matrix that is embeddable (has a valid per-step root); give ratesPerYear or probabilitiesPerStep instead"))
        case .failure(.negativeEntry(let i, let j, let v)):
            return .failure(RowProblem(row: -1, found: "a yearly matrix whose \(stepMonths)-month root has a negative entry \(levels[i].name) → \(levels[j].name) = \(v) (the embedding problem)",
                expected: "a yearly probability matrix with a valid per-step root; give ratesPerYear or probabilitiesPerStep instead"))
        }
    }

    /// How the per-step matrix is obtained, for the manifest and docs.
    public static func describe(_ unit: TransitionUnit, stepMonths: Int) -> String {
        switch unit {
        case .probabilitiesPerStep: return "probabilities per step, used as given"
        case .ratesPerYear: return "P = exp(Q · \(stepMonths)/12) from yearly rates Q"
        case .probabilitiesPerYear where stepMonths % 12 == 0: return "P = A^\(stepMonths / 12) from the yearly matrix A"
        case .probabilitiesPerYear: return "P = A^(\(stepMonths)/12), principal root of the yearly matrix A"
        }
    }
}

/// P = exp(Q·dt), cleaned, with what the reverse pass of `TransitionConversion.perStepWithPullback` needs.
public struct RatesStepPullback: Sendable {
    /// The per-step matrix P, as `TransitionConversion.perStep(rates:stepYears:)` gives it.
    public let step: [[Double]]
    /// A = Q·dt.
    let exponent: [[Double]]
    /// exp(A) before cleaning.
    let raw: [[Double]]
    let stepYears: Double

    /// ∂f/∂Q for a scalar f of P from ∂f/∂P (`stepAdjoint`, [from][to]), every entry of Q treated as
    /// free (the caller adds a diagonal's share to the off-diagonal entries that set it).
    ///
    /// Backwards through the cleaning p_ij = r_ij / s_i, s_i = Σ_k r_ik (r = exp(A), entries in
    /// [−1e-12, 0) held at 0, so constant) and the exponential:
    ///
    /// ```
    /// r̄_ij = (p̄_ij − Σ_k p̄_ik·p_ik) / s_i   (0 where r_ij was set to 0)
    /// Ā = L(Aᵀ, R̄)   (MatrixFunctions.expAdjoint),   Q̄ = dt·Ā
    /// ```
    public func ratesAdjoint(_ stepAdjoint: [[Double]]) -> [[Double]] {
        let n = step.count
        var rBar = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            // s_i as `cleaned` sums it (small negative entries at 0).
            let kept = raw[i].map { $0 < 0 ? 0 : $0 }
            let sum = kept.dropFirst().reduce(kept[0], +)
            var weighted = 0.0
            for k in 0..<n { weighted += stepAdjoint[i][k] * step[i][k] }
            for j in 0..<n where raw[i][j] >= 0 { rBar[i][j] = (stepAdjoint[i][j] - weighted) / sum }
        }
        return MatrixFunctions.expAdjoint(exponent, rBar).map { $0.map { $0 * stepYears } }
    }
}

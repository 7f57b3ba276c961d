// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) over the schedule buffers a checkpoint
// carries, as `DDPM.sample` of github.com/willdalh/minDiffusion-fork @ 5ca778079d7ff9d6f9105304f5c110c12c096b15
// (superminddpm.py) computes it, in float32 and in the same order:
//   x_{t-1} = oneover_sqrta[t] * (x_t - eps * mab_over_sqrtmab[t]) + sqrt_beta_t[t] * z,  z = 0 at t = 1.
import AIGCLayers
import AIGCModels

/// The DDPM ancestral update over a fixed schedule.
public struct DDPMAncestralScheduler: Sendable {
    /// The schedule buffers of the checkpoint.
    public let schedule: DDPMSchedule

    /// A scheduler over `schedule`.
    public init(schedule: DDPMSchedule) { self.schedule = schedule }

    /// Steps from x_T to x_0 (n_T).
    public var steps: Int { schedule.steps }

    /// Time steps in sampling order: n_T, n_T - 1, ..., 1.
    public var timesteps: [Int] { Array(stride(from: schedule.steps, through: 1, by: -1)) }

    /// One step from x_t to x_{t-1} in place; `noise` is z (x.count values), nil at t = 1.
    public func step(_ x: inout ImageTensor, predictedNoise eps: ImageTensor, t: Int, noise: [Float]?) {
        precondition(t >= 1 && t <= steps && eps.count == x.count && (noise?.count ?? x.count) == x.count)
        let a = schedule.oneOverSqrtAlpha[t], w = schedule.noiseWeight[t], sigma = schedule.sqrtBeta[t]
        x.withMutablePointer { p in
            for i in 0..<eps.values.count {
                var v = a * (p[i] - eps.values[i] * w)
                if let noise { v += sigma * noise[i] }
                p[i] = v
            }
        }
    }
}

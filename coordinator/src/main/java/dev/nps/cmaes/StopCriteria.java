package dev.nps.cmaes;

import dev.nps.protocol.CmaesStopCriteria;
import java.util.EnumSet;

/** purecma's termination criteria (tolFun looks at the last generation only), fixed for a run. */
record StopCriteria(double ftarget, long maxFevals, double tolX, double tolFun, double maxCondition) {

    /** From the options; maxFevals 0 means purecma's 100 lambda + 150 (n+3)^2 sqrt(lambda). */
    static StopCriteria of(CmaEsOptions o, int n, int lambda) {
        long maxFevals = o.maxFevals() != 0 ? o.maxFevals()
                : (long) Math.floor(100.0 * lambda + 150.0 * (n + 3) * (n + 3) * Math.sqrt(lambda));
        return new StopCriteria(o.ftarget(), maxFevals, o.tolX(), o.tolFun(), o.maxCondition());
    }

    static StopCriteria fromProto(CmaesStopCriteria s) {
        return new StopCriteria(s.getFtarget(), s.getMaxFevals(), s.getTolX(), s.getTolFun(), s.getMaxCondition());
    }

    CmaesStopCriteria toProto() {
        return CmaesStopCriteria.newBuilder().setFtarget(ftarget).setMaxFevals(maxFevals)
                .setTolX(tolX).setTolFun(tolFun).setMaxCondition(maxCondition).build();
    }

    /** The criteria that hold in {@code s}; none before the first tell. */
    EnumSet<StopReason> holding(CmaState s) {
        EnumSet<StopReason> reasons = EnumSet.noneOf(StopReason.class);
        if (s.evaluations() == 0) {
            return reasons;
        }
        if (s.bestFitness() <= ftarget) {
            reasons.add(StopReason.FTARGET);
        }
        if (s.evaluations() >= maxFevals) {
            reasons.add(StopReason.MAXFEVALS);
        }
        if (s.sigma() * s.covariance().largestAxis() < tolX) {
            reasons.add(StopReason.TOLX);
        }
        double[] last = s.lastFitness();
        if (last.length > 1 && last[last.length - 1] - last[0] < tolFun) {
            reasons.add(StopReason.TOLFUN);
        }
        if (s.covariance().conditionNumber() > maxCondition) {
            reasons.add(StopReason.CONDITION);
        }
        return reasons;
    }
}

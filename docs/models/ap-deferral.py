"""
A discrete-event model of one AP's channel during a store update (docs/decisions.md D91): N labels waking every
T s with ±J uniform jitter, all with a transfer of S s of air time, an AP with Q slots running one transfer at a
time, and an idealised edge that stages by the wake-report staging cost (src/domain/dispatch/wake-reports.ts
stagingCost) from reports every `report` s with a staging latency L. It compares the AP's §9.1.1 deferral
policies: 'queue' (the wait also counts the deferred transfers ahead, D59), 'poolN' (come back in N s) and 'holdM'
(D92, §9.11: keep the label listening when its transfer can start within M ms — the rest of the transfer on air and
those of the labels already held — and start it when the channel frees; otherwise pool1).
Not part of the product or its tests: it chose the design; the benchmark (bench/full-store.ts) measures it.

    python3 docs/models/ap-deferral.py                       # ratio (time / N*S) and channel use per policy
    python3 docs/models/ap-deferral.py pool1,hold250,hold500  # chosen policies only
"""
import heapq, random, math, sys
def run(N=2000, S=0.070, Q=64, T=30.0, J=0.1, policy='queue', horizon=4.0, L=0.05, report=1.0, seed=1, tmax=3000, cancel=True, misscost=None):
    rnd=random.Random(seed)
    ev=[]; seq=[0]
    def push(t,k,i):
        seq[0]+=1; heapq.heappush(ev,(t,seq[0],k,i))
    slept=[0.0]*N; told=[T]*N
    for i in range(N):
        slept[i]=-rnd.uniform(0,T*0.9)
        push(max(0.0,slept[i]+T*(1+rnd.uniform(-J,J))),'wake',i)
    pending=set(range(N)); staged={}
    busy_until=0.0; busy_total=0.0
    ks=list(slept); kt=list(told); buf=[]
    deferq=[]; held=[]; holds=0
    done_t=0; deferrals=0; misses=0; served=0
    push(0.0,'pass',-1); push(report,'report',-1)
    lastrep=0.0
    while ev:
        t,_,k,i=heapq.heappop(ev)
        if t>tmax: break
        if k=='wake':
            nt=T; start=t
            if i in staged and staged[i]<=t:
                if busy_until<=t:
                    busy_until=t+S; busy_total+=S; served+=1
                    del staged[i]; pending.discard(i); done_t=t+S; start=t+S
                    if i in deferq: deferq.remove(i)
                    push(busy_until,'pass',-1); push(busy_until,'free',-1)
                elif policy.startswith('hold') and (max(0,busy_until-t)+S*len(held))<=float(policy[4:])/1000:
                    # §9.1.1 hold: the label stays in receive; the AP starts its transfer when the channel frees.
                    held.append(i); holds+=1
                    continue
                else:
                    deferrals+=1
                    if policy.startswith('pool') or policy.startswith('hold'): nt=1 if policy.startswith('hold') else int(policy[4:])
                    else:
                        if i in deferq: deferq.remove(i)
                        wait=max(0,busy_until-t)+S*len(deferq)
                        deferq.append(i)
                        nt=max(1,min(T,math.ceil(wait)))
            slept[i]=start; told[i]=nt; buf.append((i,start,nt))
            push(start+nt*(1+rnd.uniform(-J,J)),'wake',i)
            if not pending: break
        elif k=='free':
            if held and busy_until<=t:
                j=held.pop(0)
                busy_until=t+S; busy_total+=S; served+=1
                del staged[j]; pending.discard(j); done_t=t+S
                slept[j]=t+S; told[j]=T; buf.append((j,t+S,T))
                push(t+S+T*(1+rnd.uniform(-J,J)),'wake',j)
                push(busy_until,'free',-1); push(busy_until,'pass',-1)
                if not pending: break
        elif k=='report':
            for (j,s,n) in buf:
                ks[j]=s; kt[j]=n
                if cancel and j in staged and n==T: del staged[j]; misses+=1
            buf=[]; lastrep=t; push(t+report,'report',-1); push(t,'pass',-1)
        elif k=='pass':
            free=Q-len(staged)
            if free>0 and pending:
                cands=[]
                for j in pending:
                    if j in staged: continue
                    a=ks[j]+kt[j]*(1-J); b=ks[j]+kt[j]*(1+J)
                    lo=max(a,min(lastrep,b)); ready=t+L
                    if b<t: cost=1e9
                    elif ready<=lo: cost=(lo+b)/2-t
                    else:
                        span=b-lo; pm=min(1,(ready-lo)/span) if span>0 else 1
                        cost=1e9 if pm>=0.95 else max(0,(b-ready)/2)+L+pm/(1-pm)*(misscost if misscost is not None else report+L)
                    cands.append((cost,j))
                cands.sort()
                n=0
                for c,j in cands:
                    if n>=free: break
                    if c>horizon+L and (len(staged)>0 or c>=1e9): break
                    staged[j]=t+L; n+=1
    return dict(policy=policy,S=S,h=horizon,T_done=round(done_t,1),bound=round(N*S,1),ratio=round(done_t/(N*S),2),util=round(busy_total/max(done_t,1e-9),2),served=served,deferrals=deferrals,holds=holds,misses=misses)
if __name__=='__main__':
    import itertools
    for pol,S,h in itertools.product((sys.argv[1].split(',') if len(sys.argv)>1 else ['queue','pool1','pool2']),[0.07,0.12,0.2],[4]):
        print(run(policy=pol,S=S,horizon=h),flush=True)

import os, time, sys, collections
# every N s: per java process, CPU seconds per thread-name group used in the interval
N=float(sys.argv[1]) if len(sys.argv)>1 else 10
tck=os.sysconf('SC_CLK_TCK')
def snap():
    out={}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            cmd=open(f'/proc/{pid}/cmdline','rb').read().split(b'\0')
        except Exception: continue
        if not cmd or not cmd[0].endswith(b'java'): continue
        tag='broker' if any(b'BrokerProcess' in c for c in cmd) else 'bench'
        tag=f"{tag}:{pid}"
        try: tasks=os.listdir(f'/proc/{pid}/task')
        except Exception: continue
        for t in tasks:
            try:
                st=open(f'/proc/{pid}/task/{t}/stat').read()
                name=st[st.index('(')+1:st.rindex(')')]
                f=st[st.rindex(')')+2:].split()
                cpu=(int(f[11])+int(f[12]))/tck
            except Exception: continue
            import re
            g=re.sub(r'[-_ ]?\d+$','',name)
            out[(tag,g,t)]=cpu
    return out
prev=snap()
while True:
    time.sleep(N)
    cur=snap()
    agg=collections.Counter()
    for k,v in cur.items():
        agg[(k[0],k[1])]+=v-prev.get(k,0)
    prev=cur
    top=[f"{a[0].split(':')[0]}/{a[1]}={v:.1f}" for a,v in agg.most_common(8) if v>0.05]
    print(time.strftime('%T'), f"total={sum(agg.values()):.1f}", ' '.join(top), flush=True)

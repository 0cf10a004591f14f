/* SPDX-License-Identifier: GPL-2.0 */
/* Exe policies: the task's executable (CO-RE), the exe_policy map, sockets that remember it. */
#ifndef LSNITCH_EXE_BPF_H
#define LSNITCH_EXE_BPF_H

/*
 * current->mm->exe_file->f_inode: its i_ino and i_sb->s_dev. Local flavours
 * (___ln_exe) of the kernel's structures, relocated against its BTF, beside
 * cg_child.bpf.h's partial task_struct (the cgroup is read through that).
 */
struct super_block___ln_exe {
	__u32 s_dev; /* dev_t */
} __attribute__((preserve_access_index));

struct inode___ln_exe {
	unsigned long i_ino;
	struct super_block___ln_exe *i_sb;
} __attribute__((preserve_access_index));

struct file___ln_exe {
	struct inode___ln_exe *f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___ln_exe {
	struct file___ln_exe *exe_file;
} __attribute__((preserve_access_index));

struct task_struct___ln_exe {
	unsigned int flags;
	struct mm_struct___ln_exe *mm;
} __attribute__((preserve_access_index));

#define LN_PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/*
 * Task @t's executable into @id: 0, or -1 (a kernel thread has no mm). The
 * identity is the file the kernel executed, not a name the process can change
 * (comm, argv[0]). Plain loads through the BTF pointer of
 * bpf_get_current_task_btf(): the JIT guards them, no helper call each.
 */
LN_INLINE int ln_exe_of(struct task_struct___ln_exe *t, struct ln_exe_id *id)
{
	struct mm_struct___ln_exe *mm = t->mm;
	struct inode___ln_exe *in;
	struct file___ln_exe *f;

	if (!mm)
		return -1;
	f = mm->exe_file;
	if (!f)
		return -1;
	in = f->f_inode;
	if (!in)
		return -1;
	id->ino = in->i_ino;
	id->dev = in->i_sb->s_dev;
	return 0;
}

LN_INLINE int ln_exe_of_task(struct ln_exe_id *id)
{
	return ln_exe_of((void *)bpf_get_current_task_btf(), id);
}

/*
 * What a verdict needs of the calling task, read once: its cgroup's id into
 * *@cg (what bpf_get_current_cgroup_id() returns: one helper call less on
 * every verdict), and 1 if it is a kernel thread, else 0 and its executable
 * into @id (left zero if it has none). A socket the kernel opens for a
 * process (an MPTCP subflow its path manager adds) is connected from a
 * kernel thread: the task is not the process, the socket's cgroup is its
 * (the subflow inherits it).
 */
LN_INLINE int ln_task_exe(struct ln_exe_id *id, __u64 *cg)
{
	struct task_struct___ln_exe *t = (void *)bpf_get_current_task_btf();

	*cg = ((struct task_struct *)t)->cgroups->dfl_cgrp->kn->id;
	if (t->flags & LN_PF_KTHREAD)
		return 1;
	ln_exe_of(t, id);
	return 0;
}

/*
 * The exe policy of scope @scope for executable @exe (zero: none), or @scope
 * itself. Its slot first, inline: one the exe_policy hash need not be asked
 * about answers alone (lsnitch_exe_filter.h); no slot (a test's table of
 * one) or a shared one asks it.
 */
LN_INLINE __u32 ln_exe_lookup(const struct ln_exe_id *exe, __u32 scope)
{
	const struct ln_exe_slot *s;
	struct ln_exe_key k;
	const __u32 *id;
	__u32 i;

	if (!exe->ino)
		return scope;
	i = ln_exe_slot_of(scope, exe->dev, exe->ino);
	s = bpf_map_lookup_elem(&exe_filter, &i);
	if (s && !s->shared)
		return s->valid && ln_exe_slot_is(s, scope, exe) ? s->policy_id : scope;
	k.scope = scope;
	k.pad = 0;
	k.exe = *exe;
	id = bpf_map_lookup_elem(&exe_policy, &k);
	return id ? *id : scope;
}

/*
 * The policy for the calling task's executable within scope @scope. Global
 * functions, so the verifier checks them once, not in every state of their
 * callers.
 */
__attribute__((noinline)) __u32 ln_exe_policy_task(__u32 scope)
{
	struct ln_exe_id exe;

	if (ln_exe_of_task(&exe) < 0)
		return scope;
	return ln_exe_lookup(&exe, scope);
}

/*
 * At egress the current task may be anyone (softirq): the executable is the
 * one the socket remembered at its last connect()/sendmsg() (ln_exe_note());
 * for a socket no sock_addr hook saw (raw, ping), the current task's when it
 * is in the socket's cgroup -- such packets leave in the sender's context.
 */
__attribute__((noinline)) __u32 ln_exe_policy_skb(struct __sk_buff *skb, __u32 scope)
{
	struct bpf_sock *sk;
	struct ln_exe_id *st;
	struct ln_exe_id exe;

	if (!skb)
		return scope;
	sk = skb->sk;
	if (!sk)
		return scope;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return scope;
	st = bpf_sk_storage_get(&exe_sk, sk, 0, 0);
	if (st) {
		exe = *st;
		/* a copy on the stack: one load insn may not read a map value and the stack */
		asm volatile("" ::: "memory");
	} else if (bpf_get_current_cgroup_id() != bpf_skb_cgroup_id(skb) ||
		   ln_exe_of_task(&exe) < 0) {
		return scope;
	}
	return ln_exe_lookup(&exe, scope);
}

/*
 * @pol (id *@policy_id), the scope the cgroup walk chose, or the exe policy
 * of that scope naming the task's executable (@exe, if the caller read it;
 * its id into *@policy_id). A scope with no exe policies costs one flag
 * test. A kernel thread's socket (@sa: an MPTCP subflow) keeps the scope's.
 */
LN_INLINE const struct ln_policy_val *ln_exe_refine(const struct ln_policy_val *pol,
						    struct __sk_buff *skb, struct bpf_sock_addr *sa,
						    const struct ln_exe_id *exe, __u32 *policy_id)
{
	const struct ln_policy_val *ep;
	__u32 id;

	if (!(pol->flags & LN_POLICY_HAS_EXE) || sa)
		return pol;
	if (skb)
		id = ln_exe_policy_skb(skb, *policy_id);
	else if (exe) /* the hooks' fresh verdicts: no call */
		id = ln_exe_lookup(exe, *policy_id);
	else
		id = ln_exe_policy_task(*policy_id);
	if (id == *policy_id)
		return pol;
	ep = bpf_map_lookup_elem(&policies, &id);
	if (!ep)
		return pol;
	*policy_id = id;
	return ep;
}

/* Whether a connect()/sendmsg() under @pol notes its executable (ln_exe_note()). */
LN_INLINE int ln_exe_noted(const struct ln_policy_val *pol)
{
	return !!(pol->flags & (LN_POLICY_HAS_EXE | LN_POLICY_IS_EXE));
}

/* The socket behind a sock_addr hook's context, for its cookie (CO-RE, read in place). */
struct sock_common___ln_exe {
	struct {
		__s64 counter;
	} skc_cookie; /* atomic64_t: 0 until first asked for (sock_gen_cookie()) */
} __attribute__((preserve_access_index));

struct sock___ln_exe {
	struct sock_common___ln_exe __sk_common;
} __attribute__((preserve_access_index));

struct bpf_sock_addr_kern___ln_exe {
	struct sock___ln_exe *sk;
} __attribute__((preserve_access_index));

/*
 * The socket of @ctx keeps its sender's executable @exe in exe_sk, for the
 * egress backstop's later packets; this CPU remembers in @m which socket
 * (cookie) it noted last, and with which executable.
 */
__attribute__((noinline)) int ln_exe_note_sk(struct bpf_sock_addr *ctx, const struct ln_exe_id *exe,
					     struct ln_exe_noted *m)
{
	struct ln_exe_id *st;

	if (!ctx || !exe || !m)
		return 0;
	st = bpf_sk_storage_get(&exe_sk, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	*st = *exe;
	m->cookie = bpf_get_socket_cookie(ctx);
	m->exe = *exe;
	return 0;
}

/*
 * A connect()/sendmsg() under a scope with exe policies (@note: ln_exe_noted(),
 * decided or cached) notes its executable @exe on the socket (ln_exe_note_sk()),
 * unless this CPU's last note was this socket with this executable: a socket
 * connect()ed or sendmsg()ed again by one program, the verdict cache's common
 * case, pays two loads and a compare, not a storage lookup and write. The
 * cookie is read in place (no helper call); 0, never asked for, is never
 * remembered. A skip can leave the note another CPU wrote since, of another
 * executable that used this socket: egress then judges by that one, which
 * can only drop more than @exe's policy would, as @exe was just allowed here.
 */
LN_INLINE void ln_exe_note(struct bpf_sock_addr *ctx, int note, const struct ln_exe_id *exe)
{
	struct bpf_sock_addr_kern___ln_exe *sa;
	struct ln_exe_noted *m;
	__u32 zero = 0;
	__u64 cookie;

	if (!note || !exe->ino)
		return;
	m = bpf_map_lookup_elem(&exe_noted, &zero);
	if (!m)
		return;
	sa = bpf_cast_to_kern_ctx(ctx);
	cookie = sa->sk->__sk_common.skc_cookie.counter;
	if (cookie && m->cookie == cookie && m->exe.ino == exe->ino && m->exe.dev == exe->dev)
		return;
	ln_exe_note_sk(ctx, exe, m);
}

#endif /* LSNITCH_EXE_BPF_H */

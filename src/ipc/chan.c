/*
 * Pipelined calls on one socket (chan.h): a writer lock for sending,
 * leader/follower reading. Waiters live on the callers' stacks, linked in a
 * list under mu; whoever holds the reader role reads one frame without mu,
 * then finds the waiter with that tag, moves the answer into the waiter's
 * buffer, and signals it.
 */
#include "ipc/chan.h"
#include "ipc/frame.h"
#include "common/limits.h"
#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
	uint32_t tag;
	int done;
	int err;
	uint32_t atype;
	struct ocbuf *ans;
	pthread_cond_t cv;
	struct waiter *next;
};

struct oc_ipc_chan {
	int fd;
	char name[32];
	pthread_mutex_t wmu;           /* one sender at a time */
	pthread_mutex_t mu;            /* everything below */
	uint32_t next_tag;
	struct waiter *waiters;
	int reading;                   /* some caller holds the reader role */
	int broken;                    /* the stream is unusable */
	struct ocbuf rbuf;             /* the reader's frame buffer */
};

int
oc_ipc_chan_new(int fd, const char *name, struct oc_ipc_chan **cp)
{
	struct oc_ipc_chan *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	c->fd = fd;
	c->next_tag = 1;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "IPC");
	ocbuf_init(&c->rbuf, OC_IPC_FRAME_MAX);
	if (pthread_mutex_init(&c->wmu, NULL) != 0) {
		free(c);
		return OC_ERR_NOMEM;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		pthread_mutex_destroy(&c->wmu);
		free(c);
		return OC_ERR_NOMEM;
	}
	*cp = c;
	return OC_OK;
}

void
oc_ipc_chan_free(struct oc_ipc_chan *c)
{
	if (c == NULL)
		return;
	ocbuf_free(&c->rbuf);
	pthread_mutex_destroy(&c->wmu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
oc_ipc_chan_broken(struct oc_ipc_chan *c)
{
	int b;

	pthread_mutex_lock(&c->mu);
	b = c->broken;
	pthread_mutex_unlock(&c->mu);
	return b;
}

/* Under mu: the stream is dead; wake everyone. */
static void
mark_broken(struct oc_ipc_chan *c)
{
	c->broken = 1;
	for (struct waiter *w = c->waiters; w != NULL; w = w->next)
		pthread_cond_signal(&w->cv);
}

/* Under mu: give the reader role to a caller still waiting (if any). */
static void
pass_reading(struct oc_ipc_chan *c)
{
	for (struct waiter *w = c->waiters; w != NULL; w = w->next)
		if (!w->done) {
			pthread_cond_signal(&w->cv);
			return;
		}
}

static void
unlink_waiter(struct oc_ipc_chan *c, struct waiter *me)
{
	for (struct waiter **pp = &c->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == me) {
			*pp = me->next;
			return;
		}
}

/*
 * Under mu, as the reader: read one frame (mu released meanwhile) and
 * deliver it. Returns with mu held and the reader role released.
 */
static void
read_one(struct oc_ipc_chan *c)
{
	struct waiter *w;
	uint32_t type = 0, tag = 0;
	int r;

	pthread_mutex_unlock(&c->mu);
	r = oc_frame_recv_tagged(c->fd, &type, &tag, &c->rbuf);
	pthread_mutex_lock(&c->mu);
	c->reading = 0;
	if (r != OC_OK) {
		error_fr(r, "%s channel", c->name);
		mark_broken(c);
		return;
	}
	for (w = c->waiters; w != NULL; w = w->next)
		if (w->tag == tag && !w->done)
			break;
	if (w == NULL) {
		log_error("%s channel: answer with unknown tag %u", c->name, tag);
		mark_broken(c);
		return;
	}
	w->atype = type;
	w->err = ocbuf_put(w->ans, ocbuf_ptr(&c->rbuf), ocbuf_avail(&c->rbuf));
	ocbuf_reset(&c->rbuf);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pass_reading(c);
}

int
oc_ipc_chan_call(struct oc_ipc_chan *c, uint32_t type, const struct ocbuf *req,
    uint32_t *atype, struct ocbuf *ans)
{
	struct waiter me;
	int r;

	memset(&me, 0, sizeof(me));
	if (c == NULL || atype == NULL || ans == NULL)
		return OC_ERR_INVALID;
	*atype = 0;
	ocbuf_reset(ans);
	if (pthread_cond_init(&me.cv, NULL) != 0)
		return OC_ERR_NOMEM;
	me.ans = ans;
	pthread_mutex_lock(&c->mu);
	if (c->broken) {
		r = OC_ERR_IPC;
		goto out;
	}
	if ((me.tag = c->next_tag++) == 0)
		me.tag = c->next_tag++;
	me.next = c->waiters;
	c->waiters = &me;
	pthread_mutex_unlock(&c->mu);

	pthread_mutex_lock(&c->wmu);
	r = oc_frame_send_tagged(c->fd, type, me.tag, req);
	pthread_mutex_unlock(&c->wmu);

	pthread_mutex_lock(&c->mu);
	if (r != OC_OK) {
		error_fr(r, "%s channel", c->name);
		mark_broken(c);
	}
	while (!me.done && !c->broken) {
		if (!c->reading) {
			c->reading = 1;
			read_one(c);
		} else
			pthread_cond_wait(&me.cv, &c->mu);
	}
	unlink_waiter(c, &me);
	if (me.done) {
		r = me.err;
		*atype = me.atype;
	} else {
		r = OC_ERR_IPC;
	}
out:
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&me.cv);
	if (r != OC_OK)
		ocbuf_reset(ans);
	return r;
}

int
oc_ipc_chan_send(struct oc_ipc_chan *c, uint32_t type, const struct ocbuf *req)
{
	int r;

	if (c == NULL)
		return OC_ERR_INVALID;
	pthread_mutex_lock(&c->mu);
	r = c->broken ? OC_ERR_IPC : OC_OK;
	pthread_mutex_unlock(&c->mu);
	if (r != OC_OK)
		return r;
	pthread_mutex_lock(&c->wmu);
	r = oc_frame_send_tagged(c->fd, type, 0, req);
	pthread_mutex_unlock(&c->wmu);
	if (r != OC_OK) {
		error_fr(r, "%s channel", c->name);
		pthread_mutex_lock(&c->mu);
		mark_broken(c);
		pthread_mutex_unlock(&c->mu);
	}
	return r;
}
